import { DependencyUnavailableError } from '../core/errors.js';
import type { ReplayStore } from '../core/replay/replay-store.interface.js';
import {
  closeRedis,
  createRedisConnection,
  type RedisConnection,
  type RedisConnectionOptions,
} from './redis-connection.js';

/** Options of {@link RedisReplayStore}. Every field has a default. */
export interface RedisReplayStoreOptions {
  /**
   * Prepended to every key, so that several deployments (or test runs) can share one Redis.
   * Default `client-auth:replay:`.
   */
  readonly keyPrefix?: string;
  /**
   * Longest a `consume` may wait for Redis, in ms, whatever the connection's own settings: a
   * hung Redis answers the request with 503 after this long. Default 1000.
   */
  readonly commandTimeoutMs?: number;
  /** Close the connection in {@link RedisReplayStore.close}. Default false (the caller owns it). */
  readonly closeConnection?: boolean;
  /** Clock in epoch ms, for the entries' lifetimes. Default `Date.now`. */
  readonly clock?: () => number;
}

/** Default key prefix of {@link RedisReplayStore}. */
export const DEFAULT_REPLAY_KEY_PREFIX = 'client-auth:replay:';
/** Shortest lifetime given to an entry, in ms: Redis expiries are at least a second. */
export const REDIS_REPLAY_MIN_TTL_MS = 1000;
/** Longest key accepted (before the prefix); a `replayKey()` digest is 43 characters. */
const MAX_KEY_LENGTH = 256;

/**
 * Single-use assertion ids in Redis (SPEC S5). `consume` is one `SET key 1 NX PX <ttl>`: Redis
 * runs commands one at a time, so of any number of concurrent calls with one key — from any
 * number of instances sharing the Redis — exactly one sets it and resolves `true`. The entry
 * expires by itself at `expiresAt` (never sooner than a second from now), so nothing needs
 * purging.
 *
 * Failures never pass as success: a refused connection, a timeout, a Redis error or an
 * unexpected reply throws `DependencyUnavailableError('replay-store')`, which the endpoints
 * answer with 503 `temporarily_unavailable` (SPEC S10). A command that timed out may still have
 * been applied by Redis; the assertion is then spent although the request was refused, which is
 * the safe side (the client signs a new assertion).
 *
 * Redis must keep keys until they expire: an evicted key is an assertion that can be replayed.
 * Run it with `maxmemory-policy noeviction` (a full Redis then refuses writes, which this store
 * answers with 503) rather than a policy that evicts keys with an expiry.
 *
 * @example
 * ```ts
 * const store = await RedisReplayStore.connect('redis://127.0.0.1:6379', { keyPrefix: 'as1:' });
 * if (!(await store.consume(replayKey(method, clientId, jti), expiresAt))) throw replayed();
 * await store.close();
 * ```
 */
export class RedisReplayStore implements ReplayStore {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #closeConnection: boolean;
  readonly #clock: () => number;

  constructor(redis: RedisConnection, options: RedisReplayStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.keyPrefix ?? DEFAULT_REPLAY_KEY_PREFIX;
    this.#timeoutMs = options.commandTimeoutMs ?? 1000;
    if (!Number.isFinite(this.#timeoutMs) || this.#timeoutMs <= 0) {
      throw new RangeError('commandTimeoutMs must be a positive number of milliseconds');
    }
    this.#closeConnection = options.closeConnection ?? false;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Opens a connection to `url` ({@link createRedisConnection}: fail-fast, reconnecting) and
   * returns a store that owns it ({@link close} closes it).
   */
  static async connect(
    url: string,
    options: RedisReplayStoreOptions & { readonly connection?: RedisConnectionOptions } = {},
  ): Promise<RedisReplayStore> {
    const redis = await createRedisConnection(url, {
      commandTimeoutMs: options.commandTimeoutMs,
      ...options.connection,
    });
    return new RedisReplayStore(redis, { ...options, closeConnection: true });
  }

  /** The connection this store uses (for health checks). */
  get connection(): RedisConnection {
    return this.#redis;
  }

  /** The Redis key an entry for `key` lives under. */
  redisKey(key: string): string {
    return this.#prefix + key;
  }

  /**
   * Records `key` until `expiresAt` (at least {@link REDIS_REPLAY_MIN_TTL_MS} from now): `true` on
   * first use, `false` on a replay (SPEC S5). Throws `DependencyUnavailableError('replay-store')`
   * when Redis is unreachable, slow or answers anything unexpected.
   */
  async consume(key: string, expiresAt: Date): Promise<boolean> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new RangeError(`replay key must be 1..${MAX_KEY_LENGTH} characters`);
    }
    const until = expiresAt.getTime();
    if (!Number.isFinite(until)) throw new RangeError('expiresAt must be a valid date');
    const ttlMs = Math.max(REDIS_REPLAY_MIN_TTL_MS, Math.ceil(until - this.#clock()));
    let reply: unknown;
    try {
      reply = await this.#bounded(this.#redis.set(this.redisKey(key), '1', 'PX', ttlMs, 'NX'));
    } catch (cause) {
      throw new DependencyUnavailableError('replay-store', { cause });
    }
    if (reply === 'OK') return true;
    if (reply === null) return false;
    throw new DependencyUnavailableError('replay-store', {
      cause: new Error('unexpected reply to SET NX from Redis'),
    });
  }

  /**
   * Checks that Redis answers (`PING`) within the command timeout; throws
   * `DependencyUnavailableError('replay-store')` otherwise. For readiness probes.
   */
  async ping(): Promise<void> {
    try {
      await this.#bounded(this.#redis.ping());
    } catch (cause) {
      throw new DependencyUnavailableError('replay-store', { cause });
    }
  }

  /** Closes the connection if this store owns it (`closeConnection` or {@link connect}). */
  async close(): Promise<void> {
    if (this.#closeConnection) await closeRedis(this.#redis);
  }

  /** Settles with `command`, or rejects once the timeout passes (the command is abandoned). */
  #bounded<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    // An abandoned command may still fail later; that must not become an unhandled rejection.
    command.catch(() => undefined);
    return Promise.race([command, timeout]).finally(() => clearTimeout(timer));
  }
}
