import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { fixtureKey } from '../../../../test/fixtures/keys/index.js';
import { withTestDatabase } from '../../../../test/utils/database.js';
import {
  REDIS_SERVER_AVAILABLE,
  startRedisServer,
  TEST_REDIS_URL,
  testRedisConnection,
  type TestRedisServer,
  uniqueRedisPrefix,
} from '../../../../test/utils/redis.js';
import { ClientRegistryService } from '../persistence/client-registry.service.js';
import { SecretCipher } from '../persistence/secret-cipher.js';
import { TypeOrmClientStore } from '../persistence/typeorm-client-store.js';
import {
  type InvalidatableClientCache,
  RedisClientInvalidationBroadcast,
} from './client-invalidation-broadcast.js';
import { closeRedis, createRedisConnection, waitForRedis } from './redis-connection.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes; resolves whether it held. */
async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** A client cache that records what it was told (its own class method, like TypeOrmClientStore). */
class RecordingCache implements InvalidatableClientCache {
  readonly invalidated: string[] = [];
  all = 0;
  invalidate(clientId: string): void {
    this.invalidated.push(clientId);
  }
  invalidateAll(): void {
    this.all++;
  }
}

/** A publisher/subscriber pair on `url`, both tracked for closing. */
async function connections(url: string, opened: Redis[], maxReconnectDelayMs = 1000) {
  const publisher = await createRedisConnection(url, { maxReconnectDelayMs });
  const subscriber = publisher.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResubscribe: false,
  });
  subscriber.on('error', () => undefined);
  opened.push(publisher, subscriber);
  expect(await waitForRedis(publisher, 5000)).toBe(true);
  return { publisher, subscriber };
}

if (!TEST_REDIS_URL) {
  console.warn('client invalidation broadcast tests skipped: TEST_REDIS_URL is unset');
}

(TEST_REDIS_URL ? describe : describe.skip)('RedisClientInvalidationBroadcast (SPEC S3)', () => {
  const url = TEST_REDIS_URL!;
  const opened: Redis[] = [];
  const broadcasts: RedisClientInvalidationBroadcast[] = [];
  let channel: string;

  async function instance(options: { channel?: string; onError?: (e: unknown) => void } = {}) {
    const { publisher, subscriber } = await connections(url, opened);
    const broadcast = new RedisClientInvalidationBroadcast(publisher, subscriber, {
      channel: options.channel ?? channel,
      ...(options.onError && { onError: options.onError }),
    });
    broadcasts.push(broadcast);
    const cache = new RecordingCache();
    broadcast.attach(cache);
    expect(await broadcast.start(5000)).toBe(true);
    return { broadcast, cache, publisher };
  }

  beforeAll(() => {
    channel = `${uniqueRedisPrefix('broadcast')}client-invalidation`;
  });
  afterEach(async () => {
    await Promise.all(broadcasts.splice(0).map((b) => b.close()));
    await Promise.all(opened.splice(0).map((redis) => closeRedis(redis)));
  });

  it('carries a local invalidation to the other instance, once and without an echo', async () => {
    const a = await instance();
    const b = await instance();
    expect(a.cache.all).toBe(1); // the first subscription starts afresh
    a.cache.invalidate('client-1');
    expect(a.cache.invalidated).toEqual(['client-1']);
    expect(await eventually(() => b.cache.invalidated.length === 1)).toBe(true);
    expect(b.cache.invalidated).toEqual(['client-1']);
    await sleep(100);
    // A ignores its own message; B applies it without publishing it again.
    expect(a.cache.invalidated).toEqual(['client-1']);
    expect(a.broadcast.stats).toMatchObject({ published: 1, received: 0 });
    expect(b.broadcast.stats).toMatchObject({ published: 0, received: 1 });
  });

  it('reaches every other instance, and only those on the same channel', async () => {
    const a = await instance();
    const b = await instance();
    const c = await instance();
    const elsewhere = await instance({ channel: `${channel}:other` });
    b.cache.invalidate('client-2');
    expect(
      await eventually(
        () => a.cache.invalidated.includes('client-2') && c.cache.invalidated.includes('client-2'),
      ),
    ).toBe(true);
    await sleep(100);
    expect(elsewhere.cache.invalidated).toEqual([]);
  });

  it.each([
    ['not JSON', 'client-3'],
    ['another version', JSON.stringify({ v: 2, origin: 'x', clientId: 'client-3' })],
    ['no client id', JSON.stringify({ v: 1, origin: 'x' })],
    ['a non-string client id', JSON.stringify({ v: 1, origin: 'x', clientId: 3 })],
    ['an oversized client id', JSON.stringify({ v: 1, origin: 'x', clientId: 'c'.repeat(256) })],
    ['an oversized message', JSON.stringify({ v: 1, origin: 'x'.repeat(2000), clientId: 'c' })],
  ])('ignores a message with %s', async (_name, message) => {
    const b = await instance();
    const raw = testRedisConnection(url);
    try {
      await raw.publish(channel, message);
      await raw.publish(channel, JSON.stringify({ v: 1, origin: 'x', clientId: 'marker' }));
    } finally {
      await raw.quit();
    }
    expect(await eventually(() => b.cache.invalidated.includes('marker'))).toBe(true);
    expect(b.cache.invalidated).toEqual(['marker']);
  });

  it('close() restores the cache’s own invalidate and stops listening', async () => {
    const a = await instance();
    const b = await instance();
    await b.broadcast.close();
    expect(Object.prototype.hasOwnProperty.call(b.cache, 'invalidate')).toBe(false);
    b.cache.invalidate('local-only');
    a.cache.invalidate('after-close');
    await sleep(150);
    expect(b.cache.invalidated).toEqual(['local-only']);
    expect(a.broadcast.stats.received).toBe(0);
  });

  it('refuses one connection for both roles, and a second cache', async () => {
    const { publisher } = await connections(url, opened);
    expect(() => new RedisClientInvalidationBroadcast(publisher, publisher)).toThrow(TypeError);
    const a = await instance();
    expect(() => a.broadcast.attach(new RecordingCache())).toThrow(/already attached/);
  });
});

(TEST_REDIS_URL ? describe : describe.skip)(
  'RedisClientInvalidationBroadcast with TypeOrmClientStore and the registry (SPEC S3)',
  () => {
    const db = withTestDatabase('sqlite');
    const url = TEST_REDIS_URL!;
    const cipher = new SecretCipher(randomBytes(32));
    const opened: Redis[] = [];
    const broadcasts: RedisClientInvalidationBroadcast[] = [];
    const stores: TypeOrmClientStore[] = [];

    afterAll(async () => {
      await Promise.all(broadcasts.map((b) => b.close()));
      await Promise.all(stores.map((s) => s.close()));
      await Promise.all(opened.map((redis) => closeRedis(redis)));
    });

    /** One "instance": its own cached store and registry service on the shared database. */
    async function instance(channel: string) {
      // A cache long enough that only an invalidation can explain a fresh read.
      const store = new TypeOrmClientStore(db.dataSource, cipher, { cacheTtlMs: 600_000 });
      stores.push(store);
      const registry = new ClientRegistryService(db.dataSource, cipher, store);
      const { publisher, subscriber } = await connections(url, opened);
      const broadcast = new RedisClientInvalidationBroadcast(publisher, subscriber, { channel });
      broadcasts.push(broadcast);
      broadcast.attach(store);
      expect(await broadcast.start(5000)).toBe(true);
      return { store, registry, broadcast };
    }

    it('a change through one instance’s registry drops the other instance’s cached client', async () => {
      const channel = `${uniqueRedisPrefix('registry')}client-invalidation`;
      const a = await instance(channel);
      const b = await instance(channel);
      const created = await a.registry.createClient({
        clientId: 'shared-client',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [fixtureKey('ES256').publicJwk] },
      });
      const received = (count: number) => eventually(() => b.broadcast.stats.received === count);
      expect(await received(1)).toBe(true); // the registration's own message
      const cached = await b.store.findClient('shared-client');
      expect(cached!.enabled).toBe(true);
      expect(await b.store.findClient('shared-client')).toBe(cached);

      await a.registry.setEnabled('shared-client', false);
      expect(await received(2)).toBe(true);
      expect((await b.store.findClient('shared-client'))!.enabled).toBe(false);

      const credentialId = created.client.credentials[0]!.id;
      await a.registry.setEnabled('shared-client', true);
      await a.registry.revokeCredential('shared-client', credentialId);
      expect(await received(4)).toBe(true);
      const after = await b.store.findClient('shared-client');
      expect(after!.enabled).toBe(true);
      expect(after!.credentials.find((c) => c.id === credentialId)?.status).toBe('revoked');
    });
  },
);

if (!REDIS_SERVER_AVAILABLE) {
  console.warn('client invalidation fault tests skipped: no redis-server binary to start');
}

(REDIS_SERVER_AVAILABLE ? describe : describe.skip)(
  'RedisClientInvalidationBroadcast when Redis fails (SPEC S10)',
  () => {
    let server: TestRedisServer;
    const opened: Redis[] = [];
    const broadcasts: RedisClientInvalidationBroadcast[] = [];

    beforeAll(async () => {
      server = await startRedisServer();
    }, 20_000);
    afterAll(async () => {
      await Promise.all(broadcasts.map((b) => b.close()));
      await Promise.all(opened.map((redis) => closeRedis(redis)));
      await server?.stop();
    });

    it('keeps local invalidation working while Redis is down, and resyncs after it returns', async () => {
      const errors: unknown[] = [];
      const make = async () => {
        const { publisher, subscriber } = await connections(server.url, opened, 100);
        const broadcast = new RedisClientInvalidationBroadcast(publisher, subscriber, {
          onError: (error) => errors.push(error),
        });
        broadcasts.push(broadcast);
        const cache = new RecordingCache();
        broadcast.attach(cache);
        expect(await broadcast.start(5000)).toBe(true);
        return { broadcast, cache };
      };
      const a = await make();
      const b = await make();
      expect(b.broadcast.stats.resyncs).toBe(1);

      await server.stop();
      a.cache.invalidate('while-down');
      expect(a.cache.invalidated).toEqual(['while-down']);
      expect(await eventually(() => errors.length > 0)).toBe(true);

      // Back up: B re-subscribes and drops everything, since it may have missed messages.
      await server.start();
      expect(await eventually(() => b.broadcast.stats.resyncs === 2, 5000)).toBe(true);
      expect(b.cache.all).toBe(2);
      expect(b.cache.invalidated).toEqual([]);
      expect(await eventually(() => a.broadcast.stats.resyncs === 2, 5000)).toBe(true);
      a.cache.invalidate('after-recovery');
      expect(await eventually(() => b.cache.invalidated.includes('after-recovery'))).toBe(true);
    }, 20_000);
  },
);
