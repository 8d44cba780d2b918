import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientAuthRateLimiter } from 'nestjs-client-auth';
import {
  assertionForm,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const INITIAL_ACCESS_TOKEN = 'initial-access-token-rate-limits';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/** A POST from a chosen loopback source address (127.0.0.0/8 all reach the server). */
function post(
  baseUrl: string,
  path: string,
  body: { form?: Record<string, string>; json?: unknown },
  options: { from?: string; authorization?: string } = {},
): Promise<Answer> {
  const text = body.form
    ? new URLSearchParams(body.form).toString()
    : JSON.stringify(body.json ?? {});
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}${path}`,
      {
        method: 'POST',
        agent: false,
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          'content-type': body.form ? 'application/x-www-form-urlencoded' : 'application/json',
          'content-length': Buffer.byteLength(text),
          ...(options.authorization && { authorization: options.authorization }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
          });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** The RFC 6749 §5.2-style body and headers of a 429. */
function expectRateLimited(answer: Answer): number {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({
    error: 'temporarily_unavailable',
    error_description: expect.stringMatching(/^too many requests; retry after \d+ seconds?$/),
  });
  expect(answer.headers['cache-control']).toBe('no-store');
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  return retryAfter;
}

describe('rate limits of the token endpoint, per client', () => {
  let server: TestServer;
  const keys: Record<string, TestKeyPair> = {};

  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      RATE_LIMIT_TOKEN_PER_CLIENT: '3',
      RATE_LIMIT_TOKEN_PER_IP: '1000',
    });
    for (const clientId of ['limited', 'neighbour', 'victim']) {
      keys[clientId] = await generateTestKey('ES256');
      await server.registry.createClient({
        clientId,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [keys[clientId]!.publicJwk] },
        grantTypes: ['client_credentials'],
      });
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const assertion = (clientId: string, key: TestKeyPair = keys[clientId]!) =>
    signAssertion(key.privateKey, key.alg, { clientId, aud: TEST_ISSUER }, { kid: key.kid });
  const token = async (clientId: string, key?: TestKeyPair) =>
    post(server.url, '/oauth/token', { form: assertionForm(await assertion(clientId, key)) });

  it('answers 429 with Retry-After once a client used its budget, and only for that client', async () => {
    for (let i = 0; i < 3; i++) expect((await token('limited')).status).toBe(200);
    const retryAfter = expectRateLimited(await token('limited'));
    // 3 per minute refill one request every 20 s.
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect((await token('neighbour')).status).toBe(200);
  });

  it('refuses an over-limit client before authentication, so its assertion is not spent', async () => {
    const spare = await assertion('limited');
    expectRateLimited(await post(server.url, '/oauth/token', { form: assertionForm(spare) }));
    // Once the bucket refills (simulated by a reset), the very same assertion is still good.
    server.app.get(ClientAuthRateLimiter).reset();
    const later = await post(server.url, '/oauth/token', { form: assertionForm(spare) });
    expect(later.status).toBe(200);
    expect(later.body.access_token).toEqual(expect.any(String));
  });

  it('does not let anyone else drain a client budget by naming it', async () => {
    const impostor = await generateTestKey('ES256', keys.victim!.kid);
    for (let i = 0; i < 6; i++) {
      const forged = await token('victim', impostor);
      expect(forged.status).toBe(401);
      expect(forged.body.error).toBe('invalid_client');
    }
    for (let i = 0; i < 3; i++) expect((await token('victim')).status).toBe(200);
    expectRateLimited(await token('victim'));
  });
});

describe('rate limits per address: token endpoint and registration', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('sqlite', {
      RATE_LIMIT_TOKEN_PER_IP: '5',
      RATE_LIMIT_REGISTER_PER_IP: '2',
      INITIAL_ACCESS_TOKEN,
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const register = (from: string) =>
    post(
      server.url,
      '/oauth/register',
      {
        json: {
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['client_credentials'],
          client_name: `from ${from}`,
        },
      },
      { from, authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
    );

  it('limits token requests per address, whatever client they name', async () => {
    const form = (i: number) => ({
      grant_type: 'client_credentials',
      client_id: `nobody-${i}`,
      client_secret: 'wrong',
    });
    for (let i = 0; i < 5; i++) {
      expect((await post(server.url, '/oauth/token', { form: form(i) })).status).toBe(401);
    }
    const retryAfter = expectRateLimited(
      await post(server.url, '/oauth/token', { form: form(99) }),
    );
    expect(retryAfter).toBeLessThanOrEqual(12); // 5 per minute: one every 12 s
    // Another address has its own bucket.
    const elsewhere = await post(
      server.url,
      '/oauth/token',
      { form: form(100) },
      {
        from: '127.0.0.2',
      },
    );
    expect(elsewhere.status).toBe(401);
  });

  it('limits registrations per address and a refused registration writes nothing', async () => {
    expect((await register('127.0.0.3')).status).toBe(201);
    expect((await register('127.0.0.3')).status).toBe(201);
    const before = (await server.registry.listClients()).total;
    expectRateLimited(await register('127.0.0.3'));
    expect((await server.registry.listClients()).total).toBe(before);
    expect((await register('127.0.0.4')).status).toBe(201);
    expect((await server.registry.listClients()).total).toBe(before + 1);
  });
});
