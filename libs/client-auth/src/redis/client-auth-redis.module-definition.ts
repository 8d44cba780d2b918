import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisConnection } from './redis-connection.js';

/** Options of `ClientAuthRedisModule.forRoot()` / `forRootAsync()`. */
export interface ClientAuthRedisModuleOptions {
  /**
   * `redis://` or `rediss://` URL (may carry a password and a database number). The module opens
   * and closes the connection. Exactly one of `url` and `connection` is required.
   */
  readonly url?: string;
  /** An ioredis connection the application owns (the module never closes it). */
  readonly connection?: RedisConnection;
  /**
   * Prefix of every key and channel, so several deployments or test runs can share one Redis:
   * replay entries live under `<prefix>replay:`, invalidations travel on
   * `<prefix>client-invalidation`. Default `client-auth:`.
   */
  readonly keyPrefix?: string;
  /** Longest a Redis command may take before the request answers 503, in ms. Default 1000. */
  readonly commandTimeoutMs?: number;
  /**
   * Longest a connection attempt may take, and how long start-up waits for Redis, in ms. A Redis
   * that is down at start-up does not stop the application: requests that need it answer 503
   * until it is reachable. Default 2000.
   */
  readonly connectTimeoutMs?: number;
  /** Longest pause between reconnection attempts, in ms. Default 1000. */
  readonly maxReconnectDelayMs?: number;
  /**
   * Broadcast client registry changes to the other instances so they drop their cached copy at
   * once (needs `ClientRegistryModule`). Default true.
   */
  readonly broadcastClientInvalidations?: boolean;
}

/** Extra options of `forRoot` / `forRootAsync` that shape the module rather than configure it. */
export interface ClientAuthRedisModuleExtras {
  /** Register the module globally (so `ClientAuthModule.forRootAsync` can inject the store). Default true. */
  isGlobal?: boolean;
}

/**
 * `ConfigurableModuleBuilder` output for `ClientAuthRedisModule`: the base class with
 * `forRoot`/`forRootAsync`, and the options token.
 */
export const {
  ConfigurableModuleClass: ClientAuthRedisConfigurableModule,
  MODULE_OPTIONS_TOKEN: CLIENT_AUTH_REDIS_OPTIONS,
  OPTIONS_TYPE: CLIENT_AUTH_REDIS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CLIENT_AUTH_REDIS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ClientAuthRedisModuleOptions>({ moduleName: 'ClientAuthRedis' })
  .setClassMethodName('forRoot')
  .setExtras<ClientAuthRedisModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
