/**
 * The runnable example (examples/outgoing-client): a Nest app that obtains a token from the
 * reference server with private_key_jwt and calls a protected route through `HttpService`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt, type JWK } from 'jose';
import request from 'supertest';
import { createOutgoingExampleApp } from '../../examples/outgoing-client/app.module.js';
import { ExampleConfigError, loadExampleConfig } from '../../examples/outgoing-client/config.js';
import {
  startProtectedApi,
  type ProtectedApi,
} from '../../examples/outgoing-client/protected-api.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

describe('examples/outgoing-client', () => {
  let server: TestServer;
  let api: ProtectedApi;
  let example: INestApplication;
  let dir: string;
  const revoked = new Set<string>();
  let refuseAll = false;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'outgoing-example-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await server.registry.createClient({
      clientId: 'reporting',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: {
        keys: [
          { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'reporting-1', alg: 'ES256' },
        ],
      },
      scope: 'reports:read reports:write',
    });
    api = await startProtectedApi({
      issuer: TEST_ISSUER,
      jwksUrl: `${server.url}/oauth/jwks`,
      requiredScope: 'reports:read',
      isRevoked: (payload) => refuseAll || revoked.has(payload.jti!),
    });
    // Configured exactly as main.ts does, from environment variables. The reference server's
    // issuer is https://as.example.test while it listens on loopback, so the token endpoint is
    // given explicitly (with a reachable issuer, it is discovered).
    const config = loadExampleConfig({
      ISSUER: TEST_ISSUER,
      TOKEN_ENDPOINT: `${server.url}/oauth/token`,
      CLIENT_ID: 'reporting',
      PRIVATE_KEY_FILE: keyFile,
      KEY_ID: 'reporting-1',
      SCOPE: 'reports:read',
      TARGET_URL: `${api.url}/reports/daily`,
    });
    example = await createOutgoingExampleApp(config, { logger: false });
    await example.init();
  }, 60_000);

  afterAll(async () => {
    await example?.close();
    await api?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bearerOf = (authorization: string | undefined) => authorization!.replace(/^Bearer /, '');

  it('calls the protected route with a token from the reference server', async () => {
    const res = await request(example.getHttpServer()).get('/report').expect(200);
    expect(res.body).toEqual({
      target: `${api.url}/reports/daily`,
      status: 200,
      body: { report: 'daily', client: 'reporting', scope: 'reports:read' },
    });
    const token = decodeJwt(bearerOf(api.authorizations.at(-1)));
    expect(token).toMatchObject({
      iss: TEST_ISSUER,
      client_id: 'reporting',
      scope: 'reports:read',
    });
  });

  it('reuses the cached token', async () => {
    await request(example.getHttpServer()).get('/report').expect(200);
    const [a, b] = api.authorizations.slice(-2);
    expect(a).toBe(b);
  });

  it('after a 401 gets a new token and retries once', async () => {
    const current = bearerOf(api.authorizations.at(-1));
    revoked.add(decodeJwt(current).jti!);
    const before = api.authorizations.length;
    await request(example.getHttpServer()).get('/report').expect(200);
    const [refused, retried] = api.authorizations.slice(before);
    expect(bearerOf(refused)).toBe(current);
    expect(bearerOf(retried)).not.toBe(current);
    expect(api.authorizations).toHaveLength(before + 2);
  });

  it('answers 502 when the API refuses the new token too', async () => {
    refuseAll = true;
    const before = api.authorizations.length;
    try {
      await request(example.getHttpServer()).get('/report').expect(502);
    } finally {
      refuseAll = false;
    }
    expect(api.authorizations).toHaveLength(before + 2);
  });

  it('refuses an incomplete environment, naming the variable', () => {
    expect(() => loadExampleConfig({ ISSUER: 'https://as.example', CLIENT_ID: 'c' })).toThrow(
      new ExampleConfigError('PRIVATE_KEY_FILE', 'is required'),
    );
    expect(() =>
      loadExampleConfig({ ISSUER: 'nope', CLIENT_ID: 'c', PRIVATE_KEY_FILE: 'k', TARGET_URL: 'x' }),
    ).toThrow(/ISSUER: must be an absolute URL/);
  });
});
