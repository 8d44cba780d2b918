/**
 * Database outage (SPEC S10): PostgreSQL stops under a running reference server, then returns.
 *
 * The test runs its own PostgreSQL instance (a throw-away data directory on a free port), so
 * stopping it cannot disturb the other suites, which share the main server and run in parallel.
 * It needs `TEST_DATABASE_URL` (PostgreSQL tests on) and the PostgreSQL server binaries.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const INITIAL_ACCESS_TOKEN = 'initial-access-token-db-faults';
const DIR_PREFIX = 'client-auth-pg-faults-';
const UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'the service is temporarily unavailable',
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The PostgreSQL server binaries (`initdb`, `pg_ctl`), or undefined when not installed. */
function postgresBinDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config on the PATH: try the Debian layout
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  for (const version of readdirSync(root).sort().reverse()) {
    const dir = join(root, version, 'bin');
    if (existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

const BIN = postgresBinDir();
const RUNNING_AS_ROOT = process.getuid?.() === 0;
const SKIP_REASON = !process.env.TEST_DATABASE_URL
  ? 'TEST_DATABASE_URL is unset (PostgreSQL tests are off)'
  : !BIN
    ? 'the PostgreSQL server binaries (initdb, pg_ctl) are not installed'
    : undefined;

/** Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root). */
function pgTool(tool: string, args: string[]): string {
  const command = join(BIN!, tool);
  const [file, argv] = RUNNING_AS_ROOT
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, args];
  try {
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`${tool} ${args[args.length - 1]} failed: ${stderr}`, { cause: error });
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private PostgreSQL instance that can be stopped and started. */
interface PrivatePostgres {
  readonly url: string;
  stop(): void;
  start(): void;
  running(): boolean;
  destroy(): void;
}

/** Stops and removes instances left behind by an interrupted run (older than an hour). */
function sweepLeftovers(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < 3_600_000) continue; // maybe a concurrent run
      if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
        pgTool('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      }
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startPrivatePostgres(): Promise<PrivatePostgres> {
  sweepLeftovers();
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const data = join(dir, 'data');
  if (RUNNING_AS_ROOT) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  pgTool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () =>
    void pgTool('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const stop = () => void pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  const running = () => {
    try {
      pgTool('pg_ctl', ['-D', data, 'status']);
      return true;
    } catch {
      return false;
    }
  };
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    running,
    destroy() {
      try {
        stop();
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One sample of the Prometheus text exposition (exact label set). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map((m) => [m[1]!, m[2]!])
      .sort();
    if (JSON.stringify(found) === wanted) return Number(match[3]);
  }
  return 0;
}

if (SKIP_REASON) {
  console.warn(`faults-database: skipped — ${SKIP_REASON}`);
}
const describeWithPostgres = SKIP_REASON ? describe.skip : describe;

describeWithPostgres('database outage and recovery (PostgreSQL)', () => {
  let postgres: PrivatePostgres | undefined;
  let server: TestServer;
  let key: TestKeyPair;
  let basicSecret: string;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    server = await startTestServer('sqlite', {
      DATABASE_URL: postgres.url,
      SECRET_ENCRYPTION_KEY: 'c'.repeat(64),
      INITIAL_ACCESS_TOKEN,
    });
    key = await generateTestKey('ES256');
    for (const clientId of ['pg-warm', 'pg-cold']) {
      await server.registry.createClient({
        clientId,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
        grantTypes: ['client_credentials'],
      });
    }
    const basic = await server.registry.createClient({
      clientId: 'pg-basic',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
    });
    basicSecret = basic.clientSecret!;
  }, 120_000);

  afterAll(async () => {
    // Up again if a failed assertion left it stopped: the server's shutdown flushes bookkeeping.
    if (postgres && !postgres.running()) postgres.start();
    await server?.close().catch(() => undefined);
    postgres?.destroy();
  }, 60_000);

  const assertion = (clientId: string, extra: { jti?: string; exp?: number } = {}) =>
    signAssertion(
      key.privateKey,
      key.alg,
      { clientId, aud: TEST_ISSUER, ...extra },
      { kid: key.kid },
    );
  const token = (form: Record<string, string>, authorization?: string) => {
    const req = request(server.url).post('/oauth/token').type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const register = () =>
    request(server.url)
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
        grant_types: ['client_credentials'],
        client_name: 'registered around an outage',
      });
  const metrics = async () => (await request(server.url).get('/metrics')).text;

  it('answers 503 JSON while the database is down, issues nothing, and resumes by itself', async () => {
    // Before: working, and the warm client is in the client cache.
    expect((await token(assertionForm(await assertion('pg-warm')))).status).toBe(200);
    expect((await request(server.url).get('/health/ready')).status).toBe(200);
    const clientsBefore = (await server.registry.listClients()).total;
    const metricsBefore = await metrics();

    postgres!.stop();

    // The same assertion is presented during the outage and after it.
    const now = Math.floor(Date.now() / 1000);
    const kept = await assertion('pg-warm', { jti: 'outage-jti-1', exp: now + 240 });
    const during = [
      await token(assertionForm(kept)), // cached client: the jti cannot be recorded
      await token(assertionForm(await assertion('pg-cold'))), // the client cannot be read
      await token(
        { grant_type: 'client_credentials' },
        basicAuthorization('pg-basic', basicSecret),
      ),
    ];
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual(UNAVAILABLE);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.access_token).toBeUndefined();
    }
    const registration = await register();
    expect(registration.status).toBe(503);
    expect(registration.body).toEqual(UNAVAILABLE);

    const ready = await request(server.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
    expect(JSON.stringify(ready.body)).not.toContain('postgres://');
    expect((await request(server.url).get('/health/live')).status).toBe(200);

    const metricsDuring = await metrics();
    expect(sample(metricsDuring, 'client_auth_tokens_issued_total')).toBe(
      sample(metricsBefore, 'client_auth_tokens_issued_total'),
    );
    const unavailable = {
      method: 'private_key_jwt',
      outcome: 'unavailable',
      reason: 'store_unavailable',
    };
    expect(
      sample(metricsDuring, 'client_auth_authentications_total', unavailable) -
        sample(metricsBefore, 'client_auth_authentications_total', unavailable),
    ).toBe(2);

    postgres!.start();

    // Service resumes without a restart.
    let resumed = false;
    for (let i = 0; i < 100 && !resumed; i++) {
      resumed = (await request(server.url).get('/health/ready')).status === 200;
      if (!resumed) await sleep(200);
    }
    expect(resumed).toBe(true);

    // Nothing was half-written: the jti refused during the outage was not consumed …
    const again = await token(assertionForm(kept));
    expect(again.status).toBe(200);
    expect(again.body.access_token).toEqual(expect.any(String));
    // … (and is consumed now) …
    expect((await token(assertionForm(kept))).status).toBe(401);
    // … and the refused registration left no client behind.
    expect((await server.registry.listClients()).total).toBe(clientsBefore);
    expect((await register()).status).toBe(201);
    expect((await server.registry.listClients()).total).toBe(clientsBefore + 1);
    expect((await token(assertionForm(await assertion('pg-cold')))).status).toBe(200);
    expect(
      (
        await token(
          { grant_type: 'client_credentials' },
          basicAuthorization('pg-basic', basicSecret),
        )
      ).status,
    ).toBe(200);
  }, 120_000);
});
