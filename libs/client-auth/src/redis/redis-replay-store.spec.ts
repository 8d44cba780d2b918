import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import {
  deleteRedisKeys,
  REDIS_SERVER_AVAILABLE,
  startRedisServer,
  TEST_REDIS_URL,
  testRedisConnection,
  type TestRedisServer,
  uniqueRedisPrefix,
} from '../../../../test/utils/redis.js';
import { DependencyUnavailableError } from '../core/errors.js';
import { replayKey } from '../core/replay/replay-key.js';
import { closeRedis, createRedisConnection, waitForRedis } from './redis-connection.js';
import { REDIS_REPLAY_MIN_TTL_MS, RedisReplayStore } from './redis-replay-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves the error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

if (!TEST_REDIS_URL) {
  console.warn('RedisReplayStore tests against the shared Redis skipped: TEST_REDIS_URL is unset');
}

(TEST_REDIS_URL ? describe : describe.skip)('RedisReplayStore on Redis (SPEC S5)', () => {
  const url = TEST_REDIS_URL!;
  const prefix = uniqueRedisPrefix('replay-store');
  const connections: Redis[] = [];
  let inspect: Redis;
  let store: RedisReplayStore;

  const connection = async () => {
    const redis = await createRedisConnection(url);
    connections.push(redis);
    expect(await waitForRedis(redis, 5000)).toBe(true);
    return redis;
  };

  beforeAll(async () => {
    inspect = testRedisConnection(url);
    store = new RedisReplayStore(await connection(), { keyPrefix: prefix });
  });

  afterAll(async () => {
    await deleteRedisKeys(url, prefix);
    await inspect?.quit();
    await Promise.all(connections.map((redis) => closeRedis(redis)));
  });

  it('accepts a key once, then reports the replay', async () => {
    const key = replayKey('private_key_jwt', 'client-1', 'jti-once');
    const expiresAt = new Date(Date.now() + 60_000);
    expect(await store.consume(key, expiresAt)).toBe(true);
    expect(await store.consume(key, expiresAt)).toBe(false);
    expect(await store.consume(key, new Date(Date.now() + 120_000))).toBe(false);
  });

  it('stores the digest under the prefix, expiring at expiresAt', async () => {
    const key = replayKey('private_key_jwt', 'client-1', 'very-distinctive-jti');
    const before = Date.now();
    await store.consume(key, new Date(before + 90_000));
    expect(await inspect.get(`${prefix}${key}`)).toBe('1');
    const pttl = await inspect.pttl(`${prefix}${key}`);
    expect(pttl).toBeGreaterThan(85_000);
    expect(pttl).toBeLessThanOrEqual(90_000);
    const keys = await inspect.keys(`${prefix}*`);
    expect(keys.every((k) => !k.includes('distinctive'))).toBe(true);
  });

  it('keeps an entry at least a second, even when expiresAt is already past', async () => {
    const key = replayKey('private_key_jwt', 'client-1', 'jti-past');
    expect(await store.consume(key, new Date(Date.now() - 60_000))).toBe(true);
    const pttl = await inspect.pttl(`${prefix}${key}`);
    expect(pttl).toBeGreaterThan(REDIS_REPLAY_MIN_TTL_MS - 200);
    expect(pttl).toBeLessThanOrEqual(REDIS_REPLAY_MIN_TTL_MS);
    expect(await store.consume(key, new Date())).toBe(false);
  });

  it('forgets an entry once it expired, so the key is usable again', async () => {
    const key = replayKey('private_key_jwt', 'client-1', 'jti-expiring');
    expect(await store.consume(key, new Date(Date.now() + REDIS_REPLAY_MIN_TTL_MS))).toBe(true);
    expect(await store.consume(key, new Date(Date.now() + 1000))).toBe(false);
    await sleep(REDIS_REPLAY_MIN_TTL_MS + 150);
    expect(await store.consume(key, new Date(Date.now() + 1000))).toBe(true);
  });

  it('lets exactly one of 100 concurrent consumers win, across two connections', async () => {
    const other = new RedisReplayStore(await connection(), { keyPrefix: prefix });
    const key = replayKey('private_key_jwt', 'client-1', 'jti-race');
    const expiresAt = new Date(Date.now() + 60_000);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? store : other).consume(key, expiresAt)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps prefixes apart: two deployments on one Redis never see each other', async () => {
    const otherDeployment = new RedisReplayStore(await connection(), {
      keyPrefix: `${prefix}other:`,
    });
    const key = replayKey('private_key_jwt', 'client-1', 'jti-shared-name');
    const expiresAt = new Date(Date.now() + 60_000);
    expect(await store.consume(key, expiresAt)).toBe(true);
    expect(await otherDeployment.consume(key, expiresAt)).toBe(true);
  });

  it.each([
    ['an empty key', '', new Date(Date.now() + 1000)],
    ['an oversized key', 'k'.repeat(257), new Date(Date.now() + 1000)],
    ['an invalid date', 'k', new Date(Number.NaN)],
  ])('refuses %s as a programming error', async (_name, key, expiresAt) => {
    expect(await rejection(store.consume(key, expiresAt))).toBeInstanceOf(RangeError);
  });

  it('answers a ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('connect() opens a connection it owns and closes; a borrowed one stays open', async () => {
    const owned = await RedisReplayStore.connect(url, { keyPrefix: prefix });
    expect(await waitForRedis(owned.connection, 5000)).toBe(true);
    expect(await owned.consume('owned-key', new Date(Date.now() + 5000))).toBe(true);
    await owned.close();
    expect(owned.connection.status).toBe('end');

    const borrowed = await connection();
    await new RedisReplayStore(borrowed, { keyPrefix: prefix }).close();
    expect(borrowed.status).toBe('ready');
  });
});

if (!REDIS_SERVER_AVAILABLE) {
  console.warn('RedisReplayStore fault tests skipped: no redis-server binary to start');
}

(REDIS_SERVER_AVAILABLE ? describe : describe.skip)(
  'RedisReplayStore when Redis fails (SPEC S10)',
  () => {
    let server: TestRedisServer;
    let redis: Redis;
    let store: RedisReplayStore;
    const key = () => replayKey('private_key_jwt', 'client-1', Math.random().toString(36));
    const soon = () => new Date(Date.now() + 30_000);

    beforeAll(async () => {
      server = await startRedisServer();
      redis = await createRedisConnection(server.url, {
        commandTimeoutMs: 300,
        maxReconnectDelayMs: 200,
      });
      store = new RedisReplayStore(redis, { keyPrefix: 'faults:', commandTimeoutMs: 300 });
      expect(await waitForRedis(redis, 5000)).toBe(true);
    }, 20_000);

    afterEach(async () => {
      server.resume();
      await server.start();
      await waitForRedis(redis, 5000);
    }, 20_000);

    afterAll(async () => {
      await closeRedis(redis);
      await server?.stop();
    });

    it('answers 503 at once while Redis is down, and recovers by itself', async () => {
      expect(await store.consume(key(), soon())).toBe(true);
      await server.stop();
      const started = Date.now();
      const error = await rejection(store.consume(key(), soon()));
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect((error as DependencyUnavailableError).status).toBe(503);
      expect((error as DependencyUnavailableError).error).toBe('temporarily_unavailable');
      expect(Date.now() - started).toBeLessThan(1000);
      await expect(store.ping()).rejects.toBeInstanceOf(DependencyUnavailableError);

      await server.start();
      const deadline = Date.now() + 5000;
      let recovered = false;
      while (!recovered && Date.now() < deadline) {
        recovered = await store.consume(key(), soon()).catch(() => false);
        if (!recovered) await sleep(50);
      }
      expect(recovered).toBe(true);
    }, 20_000);

    it('never hangs on a Redis that stopped answering: 503 after the command timeout', async () => {
      server.pause();
      const started = Date.now();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => store.consume(key(), soon())),
      );
      const elapsed = Date.now() - started;
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      for (const result of results) {
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(DependencyUnavailableError);
      }
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1500);
      server.resume();
      const deadline = Date.now() + 5000;
      let recovered = false;
      while (!recovered && Date.now() < deadline) {
        recovered = await store.consume(key(), soon()).catch(() => false);
        if (!recovered) await sleep(50);
      }
      expect(recovered).toBe(true);
    }, 20_000);

    it('answers 503, never success, when Redis refuses the write (out of memory)', async () => {
      const admin = testRedisConnection(server.url);
      try {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
        await admin.config('SET', 'maxmemory', '1');
        const error = await rejection(store.consume(key(), soon()));
        expect(error).toBeInstanceOf(DependencyUnavailableError);
        expect(String((error as Error).cause)).toMatch(/OOM/);
      } finally {
        await admin.config('SET', 'maxmemory', '0');
        await admin.quit();
      }
      expect(await store.consume(key(), soon())).toBe(true);
    });

    it('a store opened while Redis is down answers 503 until it is up', async () => {
      await server.stop();
      const late = await RedisReplayStore.connect(server.url, {
        keyPrefix: 'faults:',
        commandTimeoutMs: 300,
        connection: { maxReconnectDelayMs: 200 },
      });
      try {
        expect(await rejection(late.consume(key(), soon()))).toBeInstanceOf(
          DependencyUnavailableError,
        );
        await server.start();
        expect(await waitForRedis(late.connection, 5000)).toBe(true);
        expect(await late.consume(key(), soon())).toBe(true);
      } finally {
        await late.close();
      }
    }, 20_000);
  },
);
