import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildServer, type ServerBuild } from '../utils/built-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface BenchRun {
  code: number;
  output: string;
  report?: {
    scenarios: {
      id: string;
      cryptoLimit: { sequential: number };
      ratioToFloor?: number;
      server: {
        requestsPerSecond: number;
        non2xx: number;
        validated: number;
        validationProblems: string[];
        ratioToCryptoLimit: number;
        replay: { sent: number; accepted: number; replayRejected: number };
      };
      floor?: { requestsPerSecond: number; non2xx: number; ratioToCryptoLimit: number };
    }[];
  };
}

/**
 * Issue 8: `npm run bench` itself, on a private build, with the shortest settings — one token
 * endpoint scenario against the reference server and the floor. It checks the harness does what
 * the issue asks: figures and ratios in the JSON, sampled tokens validated, used assertions
 * re-sent after the load and none accepted, and a failed run when requests are refused.
 */
describe('the benchmark (npm run bench)', () => {
  let build: ServerBuild;
  let dir: string;

  beforeAll(async () => {
    build = await buildServer();
    dir = mkdtempSync(join(tmpdir(), 'client-auth-bench-test-'));
  }, 180_000);

  afterAll(() => {
    build?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function bench(name: string, env: Record<string, string>): Promise<BenchRun> {
    const output = join(dir, `${name}.json`);
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(ROOT, 'bench/run.mjs')],
        {
          cwd: ROOT,
          maxBuffer: 16 * 1024 * 1024,
          env: {
            ...process.env,
            BENCH_SERVER_MAIN: build.entry,
            BENCH_OUTPUT: output,
            BENCH_WRITE_DOCS: '0',
            BENCH_SCENARIOS: 'csjwt-hs256',
            BENCH_DURATION: '1',
            BENCH_WARMUP: '1',
            BENCH_CRYPTO_SECONDS: '0.5',
            BENCH_CONNECTIONS: '8',
            BENCH_PEER: '0',
            BENCH_REPLAY_SAMPLE: '40',
            BENCH_VALIDATE_SAMPLE: '5',
            ...env,
          },
        },
        (error, stdout, stderr) => {
          let report: BenchRun['report'];
          try {
            report = JSON.parse(readFileSync(output, 'utf8')) as BenchRun['report'];
          } catch {
            report = undefined;
          }
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, output: `${stdout}\n${stderr}`, report });
        },
      );
    });
  }

  it('measures the token endpoint against the crypto limit and the floor, and refuses every replay', async () => {
    const run = await bench('ok', {});
    expect({ code: run.code, tail: run.output.slice(-2000) }).toMatchObject({ code: 0 });
    const [scenario] = run.report!.scenarios;
    expect(scenario!.id).toBe('csjwt-hs256');
    const { server, floor, cryptoLimit } = scenario!;
    expect(server.requestsPerSecond).toBeGreaterThan(0);
    expect(server.non2xx).toBe(0);
    expect(server.validated).toBeGreaterThan(0);
    expect(server.validationProblems).toEqual([]);
    expect(cryptoLimit.sequential).toBeGreaterThan(0);
    expect(server.ratioToCryptoLimit).toBeCloseTo(
      server.requestsPerSecond / cryptoLimit.sequential,
      2,
    );
    expect(floor!.requestsPerSecond).toBeGreaterThan(0);
    expect(floor!.non2xx).toBe(0);
    expect(scenario!.ratioToFloor).toBeGreaterThan(0);
    // Used assertions re-sent after the load: none accepted, each refused as a replay.
    expect(server.replay.sent).toBeGreaterThan(0);
    expect(server.replay.accepted).toBe(0);
    expect(server.replay.replayRejected).toBe(server.replay.sent);
    expect(run.output).toMatch(/csjwt-hs256\s+nestjs-client-auth\s+\d+ sent, 0 accepted/);
  }, 180_000);

  it('fails the run when the server answers requests with a non-2xx', async () => {
    // One token per client per minute: the load is refused with 429 after the first request.
    const run = await bench('refused', {
      BENCH_FLOOR: '0',
      BENCH_SERVER_ENV: 'RATE_LIMIT_TOKEN_PER_CLIENT=1',
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/csjwt-hs256 on nestjs-client-auth: \d+ non-2xx/);
  }, 180_000);
});
