/**
 * The runnable example (examples/outgoing-client): a Nest app that obtains a token from the
 * reference server with private_key_jwt and calls the reference server's protected route
 * (`GET /api/reports`, SPEC S8) through `HttpService`.
 *
 * The example reaches the API through a recording pass-through on loopback, so the test can see
 * which token each call carried and what the API answered; every decision is the reference
 * server's own guard.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { ClientRegistryService } from 'nestjs-client-auth';
import request from 'supertest';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/app-config.js';
import { createOutgoingExampleApp } from '../../examples/outgoing-client/app.module.js';
import { ExampleConfigError, loadExampleConfig } from '../../examples/outgoing-client/config.js';

/** One call that went through the recording pass-through. */
interface Exchange {
  readonly path: string;
  readonly token: string | undefined;
  readonly status: number;
  readonly challenge: string | null;
}

/** Forwards GET requests to `upstream` unchanged and records each exchange. */
async function startRecorder(upstream: string) {
  const exchanges: Exchange[] = [];
  const server = createHttpServer((req, res) => {
    const authorization = req.headers.authorization;
    fetch(`${upstream}${req.url}`, {
      headers: authorization ? { authorization } : {},
    })
      .then(async (answer) => {
        const body = await answer.text();
        const challenge = answer.headers.get('www-authenticate');
        exchanges.push({
          path: req.url!,
          token: authorization?.replace(/^Bearer /, ''),
          status: answer.status,
          challenge,
        });
        res.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/json',
          ...(challenge ? { 'www-authenticate': challenge } : {}),
        });
        res.end(body);
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function clientKey(dir: string, name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: `${name}-1`, alg: 'ES256' };
  return { file, jwk };
}

describe('examples/outgoing-client against the reference server', () => {
  let dir: string;
  let port: number;
  let issuer: string;
  let server: INestApplication;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let example: INestApplication;
  let auditingKeyFile: string;

  /** The reference server on `port`, its SQLite database in `dir` (kept across restarts). */
  async function startReferenceServer(env: Record<string, string> = {}) {
    const app = await createApp(
      loadConfig({
        ISSUER: issuer,
        DATA_DIR: dir,
        LOG_LEVEL: 'error',
        SECRET_ENCRYPTION_KEY: 'c'.repeat(64),
        ...env,
      }),
      { logger: false },
    );
    await app.listen(port, '127.0.0.1');
    return app;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outgoing-example-'));
    port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    server = await startReferenceServer();
    const registry = server.get(ClientRegistryService);
    const reporting = clientKey(dir, 'reporting');
    const auditing = clientKey(dir, 'auditing');
    auditingKeyFile = auditing.file;
    await registry.createClient({
      clientId: 'reporting',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [reporting.jwk] },
      scope: 'reports:read reports:write',
    });
    await registry.createClient({
      clientId: 'auditing',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [auditing.jwk] },
      scope: 'audit:read',
    });
    recorder = await startRecorder(issuer);
    // Configured exactly as main.ts does, from environment variables: the token endpoint is
    // discovered from ISSUER (RFC 8414); only TARGET_URL is redirected through the recorder.
    const config = loadExampleConfig({
      ISSUER: issuer,
      CLIENT_ID: 'reporting',
      PRIVATE_KEY_FILE: reporting.file,
      KEY_ID: 'reporting-1',
      SCOPE: 'reports:read',
      TARGET_URL: `${recorder.url}/api/reports`,
    });
    example = await createOutgoingExampleApp(config, { logger: false });
    await example.init();
  }, 60_000);

  afterAll(async () => {
    await example?.close();
    await recorder?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const callsSince = (before: number) => recorder.exchanges.slice(before);

  it('calls GET /api/reports with a token the reference server issued', async () => {
    const res = await request(example.getHttpServer()).get('/report').expect(200);
    expect(res.body).toEqual({
      target: `${recorder.url}/api/reports`,
      status: 200,
      body: {
        reports: [
          { id: 'r-1', title: 'Token issuance by client' },
          { id: 'r-2', title: 'Authentication failures by reason' },
        ],
        requested_by: 'reporting',
      },
    });
    const [call] = recorder.exchanges;
    expect(recorder.exchanges).toHaveLength(1);
    expect(call).toMatchObject({ path: '/api/reports', status: 200 });
    expect(decodeProtectedHeader(call!.token!).typ).toBe('at+jwt');
    expect(decodeJwt(call!.token!)).toMatchObject({
      iss: issuer,
      aud: issuer,
      client_id: 'reporting',
      scope: 'reports:read',
    });
  });

  it('reuses the cached token', async () => {
    const before = recorder.exchanges.length;
    await request(example.getHttpServer()).get('/report').expect(200);
    const [call] = callsSince(before);
    expect(callsSince(before)).toHaveLength(1);
    expect(call!.token).toBe(recorder.exchanges[before - 1]!.token);
  });

  it('after the server keys are replaced, the 401 makes it get a new token and retry once', async () => {
    const cached = recorder.exchanges.at(-1)!.token!;
    // Emergency replacement: the server restarts with a new signing key only, so tokens signed
    // by the previous keys no longer verify (a rotation would keep publishing the old key).
    await server.close();
    const replacement = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    server = await startReferenceServer({
      SIGNING_KEYS: JSON.stringify({
        keys: [{ ...replacement.export({ format: 'jwk' }), kid: 'replacement-1', alg: 'ES256' }],
      }),
    });
    const before = recorder.exchanges.length;

    const res = await request(example.getHttpServer()).get('/report').expect(200);

    expect(res.body.body.requested_by).toBe('reporting');
    const [refused, retried] = callsSince(before);
    expect(callsSince(before)).toHaveLength(2);
    expect(refused).toMatchObject({ token: cached, status: 401 });
    expect(refused!.challenge).toMatch(/^Bearer .*error="invalid_token"/);
    expect(retried!.status).toBe(200);
    expect(retried!.token).not.toBe(cached);
    expect(decodeProtectedHeader(retried!.token!).kid).toBe('replacement-1');
  }, 30_000);

  it('does not retry a 403 insufficient_scope and answers 502', async () => {
    // A client without reports:read: its token is valid, so a new one would not help.
    const auditing = await createOutgoingExampleApp(
      loadExampleConfig({
        ISSUER: issuer,
        CLIENT_ID: 'auditing',
        PRIVATE_KEY_FILE: auditingKeyFile,
        KEY_ID: 'auditing-1',
        TARGET_URL: `${recorder.url}/api/reports`,
      }),
      { logger: false },
    );
    await auditing.init();
    const before = recorder.exchanges.length;
    try {
      const res = await request(auditing.getHttpServer()).get('/report').expect(502);
      expect(res.body.message).toBe('the protected API answered 403');
    } finally {
      await auditing.close();
    }
    const calls = callsSince(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.status).toBe(403);
    expect(calls[0]!.challenge).toMatch(/error="insufficient_scope"/);
    expect(calls[0]!.challenge).toMatch(/scope="reports:read"/);
    expect(decodeJwt(calls[0]!.token!)).toMatchObject({
      client_id: 'auditing',
      scope: 'audit:read',
    });
  });

  it('targets the reference server’s /api/reports unless TARGET_URL is set', () => {
    const env = { ISSUER: 'http://localhost:3000/', CLIENT_ID: 'c', PRIVATE_KEY_FILE: 'k' };
    expect(loadExampleConfig(env).targetUrl).toBe('http://localhost:3000/api/reports');
    expect(loadExampleConfig({ ...env, TARGET_URL: 'https://api.example/x' }).targetUrl).toBe(
      'https://api.example/x',
    );
  });

  it('refuses an incomplete environment, naming the variable', () => {
    expect(() => loadExampleConfig({ ISSUER: 'https://as.example', CLIENT_ID: 'c' })).toThrow(
      new ExampleConfigError('PRIVATE_KEY_FILE', 'is required'),
    );
    expect(() =>
      loadExampleConfig({ ISSUER: 'nope', CLIENT_ID: 'c', PRIVATE_KEY_FILE: 'k', TARGET_URL: 'x' }),
    ).toThrow(/ISSUER: must be an absolute URL/);
    expect(() =>
      loadExampleConfig({
        ISSUER: 'https://as.example',
        CLIENT_ID: 'c',
        PRIVATE_KEY_FILE: 'k',
        TARGET_URL: 'x',
      }),
    ).toThrow(/TARGET_URL: must be an absolute URL/);
  });
});
