import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
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
import { SecretCipher } from '../persistence/secret-cipher.js';
import { TypeOrmClientStore } from '../persistence/typeorm-client-store.js';
import { CLIENT_AUTH_REDIS, ClientAuthRedisModule } from './client-auth-redis.module.js';
import type { ClientAuthRedisModuleOptions } from './client-auth-redis.module-definition.js';
import { RedisClientInvalidationBroadcast } from './client-invalidation-broadcast.js';
import { closeRedis, createRedisConnection, waitForRedis } from './redis-connection.js';
import { RedisReplayStore } from './redis-replay-store.js';

/** A client store whose database is never reached: only its cache methods are exercised. */
function cacheOnlyClientStore(): TypeOrmClientStore {
  return new TypeOrmClientStore({} as DataSource, new SecretCipher(randomBytes(32)));
}

async function app(options: ClientAuthRedisModuleOptions, clientStore?: TypeOrmClientStore) {
  @Global()
  @Module({
    providers: clientStore ? [{ provide: TypeOrmClientStore, useValue: clientStore }] : [],
    exports: clientStore ? [TypeOrmClientStore] : [],
  })
  class RegistryStandIn {}
  const moduleRef = await Test.createTestingModule({
    imports: [RegistryStandIn, ClientAuthRedisModule.forRoot(options)],
  }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

if (!TEST_REDIS_URL) console.warn('ClientAuthRedisModule tests skipped: TEST_REDIS_URL is unset');

(TEST_REDIS_URL ? describe : describe.skip)('ClientAuthRedisModule', () => {
  const url = TEST_REDIS_URL!;
  const prefix = uniqueRedisPrefix('module');

  afterAll(async () => {
    await deleteRedisKeys(url, prefix);
  });

  it('provides the replay store under <prefix>replay: and closes its own connection', async () => {
    const nest = await app({ url, keyPrefix: prefix });
    const store = nest.get(RedisReplayStore);
    const redis = nest.get<Redis>(CLIENT_AUTH_REDIS);
    expect(redis.status).toBe('ready');
    expect(await store.consume('module-key', new Date(Date.now() + 30_000))).toBe(true);
    expect(await store.consume('module-key', new Date(Date.now() + 30_000))).toBe(false);
    const inspect = testRedisConnection(url);
    try {
      expect(await inspect.get(`${prefix}replay:module-key`)).toBe('1');
    } finally {
      await inspect.quit();
    }
    await nest.close();
    expect(redis.status).toBe('end');
  });

  it('leaves a connection it was given open', async () => {
    const given = await createRedisConnection(url);
    try {
      const nest = await app({ connection: given, keyPrefix: prefix });
      expect(nest.get(CLIENT_AUTH_REDIS)).toBe(given);
      await nest.close();
      expect(given.status).toBe('ready');
    } finally {
      await closeRedis(given);
    }
  });

  it.each([
    ['neither url nor connection', {}],
    ['both url and connection', { url: 'redis://127.0.0.1:1', connection: {} as Redis }],
  ])('refuses %s', async (_name, options) => {
    await expect(app(options as ClientAuthRedisModuleOptions)).rejects.toThrow(
      /exactly one of url and connection/,
    );
  });

  it('attaches the invalidation broadcast to TypeOrmClientStore, and detaches on close', async () => {
    const clientStore = cacheOnlyClientStore();
    const nest = await app({ url, keyPrefix: prefix }, clientStore);
    const broadcast = nest.get(RedisClientInvalidationBroadcast);
    expect(broadcast.channel).toBe(`${prefix}client-invalidation`);
    expect(Object.prototype.hasOwnProperty.call(clientStore, 'invalidate')).toBe(true);
    expect(broadcast.stats.resyncs).toBe(1);
    clientStore.invalidate('some-client');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(broadcast.stats.published).toBe(1);
    await nest.close();
    expect(Object.prototype.hasOwnProperty.call(clientStore, 'invalidate')).toBe(false);
  });

  it('broadcastClientInvalidations: false leaves the client store alone', async () => {
    const clientStore = cacheOnlyClientStore();
    const nest = await app(
      { url, keyPrefix: prefix, broadcastClientInvalidations: false },
      clientStore,
    );
    expect(nest.get(RedisClientInvalidationBroadcast, { strict: false })).toBeNull();
    expect(Object.prototype.hasOwnProperty.call(clientStore, 'invalidate')).toBe(false);
    await nest.close();
  });
});

(REDIS_SERVER_AVAILABLE ? describe : describe.skip)(
  'ClientAuthRedisModule, Redis down at start-up',
  () => {
    let server: TestRedisServer;

    beforeAll(async () => {
      server = await startRedisServer();
      await server.stop();
    }, 20_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('starts within the connect timeout, answers 503, and recovers when Redis comes up', async () => {
      const started = Date.now();
      const nest = await app(
        { url: server.url, connectTimeoutMs: 300, maxReconnectDelayMs: 100 },
        cacheOnlyClientStore(),
      );
      try {
        expect(Date.now() - started).toBeLessThan(3000);
        const store = nest.get(RedisReplayStore);
        await expect(store.consume('k', new Date(Date.now() + 5000))).rejects.toBeInstanceOf(
          DependencyUnavailableError,
        );
        await server.start();
        expect(await waitForRedis(store.connection, 5000)).toBe(true);
        expect(await store.consume('k', new Date(Date.now() + 5000))).toBe(true);
        // The broadcast subscribed once Redis was there.
        const broadcast = nest.get(RedisClientInvalidationBroadcast);
        const deadline = Date.now() + 5000;
        while (broadcast.stats.resyncs === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(broadcast.stats.resyncs).toBe(1);
      } finally {
        await nest.close();
      }
    }, 20_000);
  },
);
