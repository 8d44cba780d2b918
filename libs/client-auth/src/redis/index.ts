/**
 * Redis for several instances (SPEC S5, S10): the replay store, the client invalidation
 * broadcast and their Nest module. ioredis is loaded only when a connection is opened.
 */
export {
  CLIENT_AUTH_REDIS,
  ClientAuthRedisModule,
  DEFAULT_REDIS_KEY_PREFIX,
  InjectClientAuthRedis,
} from './client-auth-redis.module.js';
export { CLIENT_AUTH_REDIS_OPTIONS } from './client-auth-redis.module-definition.js';
export type {
  ClientAuthRedisModuleExtras,
  ClientAuthRedisModuleOptions,
} from './client-auth-redis.module-definition.js';
export {
  DEFAULT_INVALIDATION_CHANNEL,
  RedisClientInvalidationBroadcast,
} from './client-invalidation-broadcast.js';
export type {
  ClientInvalidationStats,
  InvalidatableClientCache,
  RedisClientInvalidationBroadcastOptions,
} from './client-invalidation-broadcast.js';
export {
  closeRedis,
  createRedisConnection,
  failFastRedisOptions,
  REDIS_CONNECTION_DEFAULTS,
  waitForRedis,
} from './redis-connection.js';
export type { RedisConnection, RedisConnectionOptions } from './redis-connection.js';
export {
  DEFAULT_REPLAY_KEY_PREFIX,
  REDIS_REPLAY_MIN_TTL_MS,
  RedisReplayStore,
} from './redis-replay-store.js';
export type { RedisReplayStoreOptions } from './redis-replay-store.js';
