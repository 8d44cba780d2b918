/**
 * `WORKERS=2` (docs/scaling.md): the built reference server, started with `node`, runs two
 * cluster workers on one port and one SQLite database, with correctness unchanged — a replay is
 * refused whichever worker sees it, every worker's tokens verify against the published keys, a
 * crashed worker is replaced, and SIGTERM drains in-flight requests before everything exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import {
  assertionForm,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import {
  buildServer,
  freshRequest,
  isAlive,
  type ServerBuild,
  type ServerProcess,
  startServerProcess,
} from '../utils/built-server.js';
import { freePort } from '../utils/redis.js';
import { TEST_ISSUER } from '../utils/test-server.js';

const ADMIN_TOKEN = 'admin-token-for-the-cluster-test';
const WORKER_LISTENING = /worker (\d+) listening on port/;
const REPLAYED = {
  error: 'invalid_client',
  error_description: 'the assertion jti was already used',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reference server with WORKERS=2 (cluster, SQLite)', () => {
  let build: ServerBuild;
  let server: ServerProcess;
  let base: string;
  let port: number;
  let dataDir: string;
  let key: TestKeyPair;
  let jwksServer: Server;
  let jwksUrl: string;
  let jwksDelayMs = 0;
  const workerPids = new Set<number>();

  /** Listening lines seen so far, to tell a replacement worker from the first ones. */
  const seen = new Set<string>();
  const nextWorker = async (timeoutMs: number) => {
    const line = await server.waitForLine(WORKER_LISTENING, timeoutMs, seen);
    seen.add(line);
    const pid = Number(WORKER_LISTENING.exec(line)![1]);
    workerPids.add(pid);
    return pid;
  };

  const token = (form: Record<string, string>) => freshRequest(`${base}/oauth/token`, { form });
  const assertion = (clientId = 'pkj', signer = key) =>
    signAssertion(
      signer.privateKey,
      signer.alg,
      { clientId, aud: TEST_ISSUER },
      { kid: signer.kid },
    );
  const createClient = async (metadata: Record<string, unknown>) => {
    const res = await freshRequest(`${base}/admin/clients`, {
      json: { grant_types: ['client_credentials'], ...metadata },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(201);
    return res.body as { client_id: string };
  };

  beforeAll(async () => {
    build = await buildServer();
    key = await generateTestKey('ES256');
    jwksServer = createServer((_req, res) => {
      setTimeout(() => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ keys: [key.publicJwk] }));
      }, jwksDelayMs);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;

    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dataDir = mkdtempSync(join(tmpdir(), 'client-auth-cluster-'));
    server = startServerProcess(build.entry, {
      PORT: String(port),
      WORKERS: '2',
      ISSUER: TEST_ISSUER,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'log',
      ADMIN_TOKEN,
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
      JWKS_REFRESH_COOLDOWN: '0',
    });
    await nextWorker(60_000);
    await nextWorker(60_000);
    await createClient({
      client_id: 'pkj',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    });
  }, 240_000);

  afterAll(async () => {
    const primary = server?.process;
    if (primary && primary.exitCode === null && primary.signalCode === null) {
      primary.kill('SIGKILL');
      await server.exited;
    }
    for (const pid of workerPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (jwksServer) await new Promise((resolve) => jwksServer.close(resolve));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    build?.remove();
  }, 30_000);

  it('runs a primary and two workers sharing the port', () => {
    expect(workerPids.size).toBe(2);
    expect(workerPids.has(server.process.pid!)).toBe(false);
    expect(server.lines.some((line) => /primary \d+ started 2 workers/.test(line))).toBe(true);
  });

  it('refuses a replay whichever worker sees it: of 40 concurrent requests, one succeeds', async () => {
    const signed = await assertion();
    const results = await Promise.all(
      Array.from({ length: 40 }, () => token(assertionForm(signed))),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual(REPLAYED);
    }
    // Each worker logs its own refusals: both of them refused some.
    await sleep(200);
    const refusingPids = new Set(
      server.lines
        .filter((line) => line.includes('reason=jti_replayed'))
        .map((line) => Number(/\[Nest\] (\d+)/.exec(line)?.[1] ?? /"pid":(\d+)/.exec(line)?.[1])),
    );
    expect([...refusingPids].sort()).toEqual([...workerPids].sort());
  }, 60_000);

  it('issues tokens from every worker that verify against the keys every worker publishes', async () => {
    const sets = await Promise.all(
      Array.from({ length: 4 }, () => freshRequest(`${base}/oauth/jwks`)),
    );
    for (const set of sets) expect(set.body).toEqual(sets[0]!.body);
    const keySet = createLocalJWKSet(sets[0]!.body as JSONWebKeySet);
    for (let i = 0; i < 10; i++) {
      const res = await token(assertionForm(await assertion()));
      expect(res.status).toBe(200);
      const { payload } = await jwtVerify(
        (res.body as { access_token: string }).access_token,
        keySet,
        {
          issuer: TEST_ISSUER,
          typ: 'at+jwt',
        },
      );
      expect(payload.client_id).toBe('pkj');
    }
  }, 60_000);

  it('replaces a crashed worker and keeps serving', async () => {
    const [victim] = [...workerPids];
    process.kill(victim!, 'SIGKILL');
    const replacement = await nextWorker(60_000);
    expect(replacement).not.toBe(victim);
    expect(isAlive(victim!)).toBe(false);
    expect(server.lines.some((line) => line.includes(`worker ${victim} exited (SIGKILL)`))).toBe(
      true,
    );
    for (let i = 0; i < 6; i++) {
      expect((await token(assertionForm(await assertion()))).status).toBe(200);
    }
  }, 90_000);

  it('on SIGTERM finishes in-flight requests, then the workers and the primary exit', async () => {
    await createClient({
      client_id: 'remote',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: jwksUrl,
    });
    // The next authentication of `remote` fetches its key set slowly, on whichever worker.
    jwksDelayMs = 1500;
    const inFlight = token(assertionForm(await assertion('remote')));
    await sleep(400);
    server.process.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(typeof (res.body as { access_token?: unknown }).access_token).toBe('string');

    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      server.exited,
      new Promise((resolve) => (timer = setTimeout(resolve, 30_000, 'timeout'))),
    ]);
    clearTimeout(timer);
    expect(exit).toEqual({ code: 0, signal: null });
    for (const pid of workerPids) expect(isAlive(pid)).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(server.lines.some((line) => line.includes('all workers stopped'))).toBe(true);
  }, 60_000);
});
