/**
 * Scale-out (SPEC S5, S10; docs/scaling.md): two reference-server instances in one process, each
 * with its own caches and connections, sharing PostgreSQL, Redis, or both — and a shared Redis
 * that goes down, or stops answering, under them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { TEST_DATABASE_URL } from '../utils/database.js';
import {
  deleteRedisKeys,
  REDIS_SERVER_AVAILABLE,
  startRedisServer,
  TEST_REDIS_URL,
  testRedisConnection,
  type TestRedisServer,
  uniqueRedisPrefix,
} from '../utils/redis.js';
import {
  SHARED_ADMIN_TOKEN,
  startTestServers,
  type TestServerGroup,
} from '../utils/shared-test-servers.js';
import { TEST_ISSUER, type TestServer } from '../utils/test-server.js';

/** The client cache time-to-live of the reference server: the documented bound without Redis. */
const CLIENT_CACHE_TTL_MS = 10_000;
const REPLAYED = {
  error: 'invalid_client',
  error_description: 'the assertion jti was already used',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (!TEST_DATABASE_URL) {
  console.warn('multi-instance tests on shared PostgreSQL skipped: TEST_DATABASE_URL is unset');
}
if (!TEST_REDIS_URL) {
  console.warn('multi-instance tests on shared Redis skipped: TEST_REDIS_URL is unset');
}
if (!REDIS_SERVER_AVAILABLE) {
  console.warn('Redis outage tests skipped: no redis-server binary to start a private Redis');
}

const token = (server: TestServer, form: Record<string, string>, authorization?: string) => {
  const req = request(server.url).post('/oauth/token').type('form');
  if (authorization) req.set('Authorization', authorization);
  return req.send(form);
};

const admin = (server: TestServer, path: string) =>
  request(server.url).post(path).set('Authorization', `Bearer ${SHARED_ADMIN_TOKEN}`).send();

/** A fresh signed assertion of `clientId` with `key`. */
const assertion = (key: TestKeyPair, clientId: string) =>
  signAssertion(key.privateKey, key.alg, { clientId, aud: TEST_ISSUER }, { kid: key.kid });

/** Registers a `private_key_jwt` client with `keys` through `server`'s registry; returns credential ids. */
async function registerKeyClient(
  server: TestServer,
  clientId: string,
  keys: readonly TestKeyPair[],
): Promise<string[]> {
  const created = await server.registry.createClient({
    clientId,
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwks: { keys: keys.map((key) => key.publicJwk) },
    grantTypes: ['client_credentials'],
  });
  return keys.map(
    (key) => created.client.credentials.find((credential) => credential.kid === key.kid)!.id,
  );
}

/**
 * Sends the same assertion `total` times at once, alternating between the instances, and returns
 * the statuses and bodies.
 */
async function race(servers: readonly TestServer[], signed: string, total = 100) {
  const responses = await Promise.all(
    Array.from({ length: total }, (_, i) =>
      token(servers[i % servers.length]!, assertionForm(signed)),
    ),
  );
  return responses.map((res) => ({
    status: res.status,
    body: res.body as Record<string, unknown>,
  }));
}

/** Expects exactly one success among `results`, every other one refused as a replay. */
function expectExactlyOneWinner(results: Awaited<ReturnType<typeof race>>): void {
  const ok = results.filter((r) => r.status === 200);
  expect(ok).toHaveLength(1);
  expect(typeof ok[0]!.body.access_token).toBe('string');
  const refused = results.filter((r) => r.status !== 200);
  expect(refused).toHaveLength(results.length - 1);
  for (const r of refused) {
    expect(r.status).toBe(401);
    expect(r.body).toEqual(REPLAYED);
  }
}

/**
 * Polls `server` with fresh assertions of `clientId` signed by `key` until one is refused;
 * resolves the elapsed ms (or Infinity after `timeoutMs`).
 */
async function msUntilRefused(
  server: TestServer,
  clientId: string,
  key: TestKeyPair,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started <= timeoutMs) {
    const res = await token(server, assertionForm(await assertion(key, clientId)));
    if (res.status === 401) {
      expect(res.body.error).toBe('invalid_client');
      return Date.now() - started;
    }
    expect(res.status).toBe(200);
    await sleep(200);
  }
  return Number.POSITIVE_INFINITY;
}

(TEST_DATABASE_URL ? describe : describe.skip)('two instances sharing PostgreSQL', () => {
  let group: TestServerGroup;
  let a: TestServer;
  let b: TestServer;
  let key: TestKeyPair;
  let second: TestKeyPair;
  let revokeMeIds: string[];

  beforeAll(async () => {
    group = await startTestServers(2, 'shared-postgres');
    [a, b] = group.servers as [TestServer, TestServer];
    key = await generateTestKey('ES256');
    second = await generateTestKey('ES256');
    await registerKeyClient(a, 'race', [key]);
    await registerKeyClient(a, 'disable-me', [key]);
    revokeMeIds = await registerKeyClient(a, 'revoke-me', [key, second]);
  }, 60_000);

  afterAll(async () => {
    await group?.close();
  }, 30_000);

  it('of 100 concurrent requests carrying one assertion, over both instances, exactly one succeeds', async () => {
    expectExactlyOneWinner(await race([a, b], await assertion(key, 'race')));
    // Both instances recorded their refusals with the reason code (flushed within a second).
    let reasons: string[] = [];
    for (let i = 0; i < 30 && reasons.length < 99; i++) {
      await sleep(200);
      const res = await request(a.url)
        .get('/admin/clients/race/failures?limit=200')
        .set('Authorization', `Bearer ${SHARED_ADMIN_TOKEN}`);
      reasons = (res.body as { reason: string }[]).map((row) => row.reason);
    }
    expect(reasons).toHaveLength(99);
    expect(new Set(reasons)).toEqual(new Set(['jti_replayed']));
  }, 60_000);

  it(`a change on A is honoured by B within the client cache TTL (${CLIENT_CACHE_TTL_MS} ms)`, async () => {
    // B caches both clients.
    expect((await token(b, assertionForm(await assertion(key, 'disable-me')))).status).toBe(200);
    expect((await token(b, assertionForm(await assertion(key, 'revoke-me')))).status).toBe(200);

    expect((await admin(a, '/admin/clients/disable-me/disable')).status).toBe(200);
    expect(
      (await admin(a, `/admin/clients/revoke-me/credentials/${revokeMeIds[0]}/revoke`)).status,
    ).toBe(204);
    // A itself refuses at once (its cache entry was dropped by the change).
    expect((await token(a, assertionForm(await assertion(key, 'disable-me')))).status).toBe(401);

    const bound = CLIENT_CACHE_TTL_MS + 1000;
    const [disabled, revoked] = await Promise.all([
      msUntilRefused(b, 'disable-me', key, bound),
      msUntilRefused(b, 'revoke-me', key, bound),
    ]);
    expect(disabled).toBeLessThanOrEqual(bound);
    expect(revoked).toBeLessThanOrEqual(bound);
    // The key that was not revoked still works on both.
    for (const server of [a, b]) {
      expect(
        (await token(server, assertionForm(await assertion(second, 'revoke-me')))).status,
      ).toBe(200);
    }
  }, 30_000);
});

(TEST_REDIS_URL ? describe : describe.skip)(
  'two instances sharing Redis as the replay store (each on its own SQLite database)',
  () => {
    const prefix = uniqueRedisPrefix('multi-instance');
    let group: TestServerGroup;
    let a: TestServer;
    let b: TestServer;
    let key: TestKeyPair;

    beforeAll(async () => {
      group = await startTestServers(2, 'separate-sqlite', {
        REDIS_URL: TEST_REDIS_URL!,
        REDIS_KEY_PREFIX: prefix,
      });
      [a, b] = group.servers as [TestServer, TestServer];
      key = await generateTestKey('ES256');
      // The same client in both registries: only Redis connects the two instances.
      for (const server of group.servers) await registerKeyClient(server, 'race', [key]);
    }, 60_000);

    afterAll(async () => {
      await group?.close();
      await deleteRedisKeys(TEST_REDIS_URL!, prefix);
    }, 30_000);

    it('of 100 concurrent requests carrying one assertion, over both instances, exactly one succeeds', async () => {
      expectExactlyOneWinner(await race([a, b], await assertion(key, 'race')));
    }, 60_000);

    it('keeps the entry in Redis under the prefix until the assertion expires', async () => {
      const redis = testRedisConnection(TEST_REDIS_URL!);
      try {
        const before = new Set(await redis.keys(`${prefix}replay:*`));
        const exp = Math.floor(Date.now() / 1000) + 60;
        const signed = await signAssertion(
          key.privateKey,
          key.alg,
          { clientId: 'race', aud: TEST_ISSUER, exp },
          { kid: key.kid },
        );
        expect((await token(a, assertionForm(signed))).status).toBe(200);
        const added = (await redis.keys(`${prefix}replay:*`)).filter((k) => !before.has(k));
        expect(added).toHaveLength(1);
        const pttl = await redis.pttl(added[0]!);
        // exp + the 30 s clock leeway, measured from now.
        const expected = (exp + 30) * 1000 - Date.now();
        expect(pttl).toBeGreaterThan(expected - 5000);
        expect(pttl).toBeLessThanOrEqual(expected + 1000);
      } finally {
        await redis.quit();
      }
      expect((await token(b, assertionForm(await assertion(key, 'race')))).status).toBe(200);
    });
  },
);

(TEST_DATABASE_URL && TEST_REDIS_URL ? describe : describe.skip)(
  'two instances sharing PostgreSQL and Redis (client invalidation broadcast)',
  () => {
    const prefix = uniqueRedisPrefix('broadcast');
    let group: TestServerGroup;
    let a: TestServer;
    let b: TestServer;
    let key: TestKeyPair;
    let second: TestKeyPair;
    let keyIds: string[];

    beforeAll(async () => {
      group = await startTestServers(2, 'shared-postgres', {
        REDIS_URL: TEST_REDIS_URL!,
        REDIS_KEY_PREFIX: prefix,
      });
      [a, b] = group.servers as [TestServer, TestServer];
      key = await generateTestKey('ES256');
      second = await generateTestKey('ES256');
      keyIds = await registerKeyClient(a, 'toggled', [key, second]);
    }, 60_000);

    afterAll(async () => {
      await group?.close();
      await deleteRedisKeys(TEST_REDIS_URL!, prefix);
    }, 30_000);

    const ok = async (server: TestServer, signer: TestKeyPair) =>
      (await token(server, assertionForm(await assertion(signer, 'toggled')))).status;

    it('a change on A is honoured by B from its next request on', async () => {
      expect(await ok(b, key)).toBe(200); // cached on B from here on

      expect((await admin(a, '/admin/clients/toggled/disable')).status).toBe(200);
      expect(await ok(b, key)).toBe(401);

      expect((await admin(a, '/admin/clients/toggled/enable')).status).toBe(200);
      expect(await ok(b, key)).toBe(200);

      expect(
        (await admin(a, `/admin/clients/toggled/credentials/${keyIds[0]}/revoke`)).status,
      ).toBe(204);
      expect(await ok(b, key)).toBe(401);
      expect(await ok(b, second)).toBe(200);
    });

    it('and the other way round: a change on B reaches A', async () => {
      expect(await ok(a, second)).toBe(200); // cached on A
      expect((await admin(b, '/admin/clients/toggled/disable')).status).toBe(200);
      expect(await ok(a, second)).toBe(401);
    });
  },
);

(REDIS_SERVER_AVAILABLE ? describe : describe.skip)('a shared Redis that fails (SPEC S10)', () => {
  let redis: TestRedisServer;
  let group: TestServerGroup;
  let a: TestServer;
  let b: TestServer;
  let key: TestKeyPair;
  let basic: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    group = await startTestServers(2, 'separate-sqlite', { REDIS_URL: redis.url });
    [a, b] = group.servers as [TestServer, TestServer];
    key = await generateTestKey('ES256');
    for (const server of group.servers) await registerKeyClient(server, 'pkj', [key]);
    const secret = await a.registry.createClient({
      clientId: 'basic',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
    });
    basic = basicAuthorization('basic', secret.clientSecret!);
  }, 60_000);

  afterAll(async () => {
    await group?.close();
    await redis?.stop();
  }, 30_000);

  /** Polls until `server` issues a token for a fresh assertion; resolves the elapsed ms. */
  async function msUntilServed(server: TestServer, signed?: string, timeoutMs = 10_000) {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const res = await token(server, assertionForm(signed ?? (await assertion(key, 'pkj'))));
      if (res.status === 200) return Date.now() - started;
      expect(res.status).toBe(503);
      await sleep(100);
    }
    return Number.POSITIVE_INFINITY;
  }

  it('Redis down: 503 temporarily_unavailable and no token, then service resumes by itself', async () => {
    for (const server of [a, b]) expect(await msUntilServed(server)).toBeLessThan(5000);

    await redis.stop();
    const refusedDuringOutage = await assertion(key, 'pkj');
    for (const server of [a, b]) {
      const started = Date.now();
      const res = await token(server, assertionForm(refusedDuringOutage));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'the service is temporarily unavailable',
      });
      expect(res.body.access_token).toBeUndefined();
    }
    // Methods that need no replay store are not affected.
    expect((await token(a, { grant_type: 'client_credentials' }, basic)).status).toBe(200);

    await redis.start();
    for (const server of [a, b]) expect(await msUntilServed(server)).toBeLessThan(10_000);
    // The outage did not spend the refused assertion: nothing reached Redis, so a retry works once.
    expect((await token(a, assertionForm(refusedDuringOutage))).status).toBe(200);
    expect((await token(b, assertionForm(refusedDuringOutage))).status).toBe(401);
  }, 60_000);

  it('Redis frozen: 503 after the command timeout, never a hang; resumes when it thaws', async () => {
    redis.pause();
    try {
      const started = Date.now();
      const res = await token(a, assertionForm(await assertion(key, 'pkj')));
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
      expect(elapsed).toBeLessThan(3000);
    } finally {
      redis.resume();
    }
    expect(await msUntilServed(a)).toBeLessThan(10_000);
  }, 30_000);
});
