import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** A Redis connection as the Redis-backed stores use it: an ioredis client or cluster. */
export type RedisConnection = Redis | Cluster;

/** Options of {@link createRedisConnection}. Every field has a default. */
export interface RedisConnectionOptions {
  /**
   * Longest a single command may take, in ms, before it fails (ioredis `commandTimeout`). A hung
   * Redis then costs a request this long, never forever. Default 1000.
   */
  readonly commandTimeoutMs?: number;
  /** Longest a TCP connection attempt may take, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /**
   * Longest pause between two reconnection attempts, in ms: after Redis returns, service resumes
   * within about this long. Default 1000.
   */
  readonly maxReconnectDelayMs?: number;
  /**
   * Told about every connection error (refused, reset, timed out). The connection keeps
   * reconnecting by itself; this is for logs. Default: ignored.
   */
  readonly onError?: (error: Error) => void;
  /** Further ioredis options; they override the defaults above. */
  readonly redisOptions?: RedisOptions;
}

/** Defaults of {@link RedisConnectionOptions}. */
export const REDIS_CONNECTION_DEFAULTS = {
  commandTimeoutMs: 1000,
  connectTimeoutMs: 2000,
  maxReconnectDelayMs: 1000,
} as const;

/**
 * The ioredis options that make a connection fail fast instead of queueing (SPEC S10: an outage is
 * a prompt 503, never a hang, and service resumes by itself):
 *
 * - no offline queue: a command issued while disconnected fails at once instead of waiting for a
 *   reconnection (which might run it long after the request was answered);
 * - `maxRetriesPerRequest: 0` and no resending: commands in flight when the connection drops fail
 *   instead of being replayed on the next connection;
 * - a command timeout, so a Redis that accepts connections but does not answer cannot hang a
 *   request;
 * - reconnection forever, with a short capped backoff.
 */
export function failFastRedisOptions(options: RedisConnectionOptions = {}): RedisOptions {
  const commandTimeout = positive(
    'commandTimeoutMs',
    options.commandTimeoutMs ?? REDIS_CONNECTION_DEFAULTS.commandTimeoutMs,
  );
  const connectTimeout = positive(
    'connectTimeoutMs',
    options.connectTimeoutMs ?? REDIS_CONNECTION_DEFAULTS.connectTimeoutMs,
  );
  const maxDelay = positive(
    'maxReconnectDelayMs',
    options.maxReconnectDelayMs ?? REDIS_CONNECTION_DEFAULTS.maxReconnectDelayMs,
  );
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    connectTimeout,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay),
    ...options.redisOptions,
  };
}

/**
 * Opens an ioredis connection to `url` (`redis://` or `rediss://`) with
 * {@link failFastRedisOptions}. It starts connecting at once; commands fail until it is ready
 * (see {@link waitForRedis}). ioredis is loaded only when this is called, so applications that do
 * not use Redis need not install it. The URL may hold a password: it is never logged here.
 *
 * @example
 * ```ts
 * const redis = await createRedisConnection(process.env.REDIS_URL!, { commandTimeoutMs: 500 });
 * const replayStore = new RedisReplayStore(redis, { keyPrefix: 'my-app:' });
 * ```
 */
export async function createRedisConnection(
  url: string,
  options: RedisConnectionOptions = {},
): Promise<Redis> {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError('Redis URL is not a valid URL');
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError('Redis URL must use the redis: or rediss: scheme');
  }
  const ioredis = await import('ioredis');
  const RedisClass = (ioredis.Redis ?? ioredis.default) as typeof Redis;
  const client = new RedisClass(url, failFastRedisOptions(options));
  // Without a listener ioredis prints every connection error; with one, the caller decides.
  client.on('error', (error: Error) => options.onError?.(error));
  return client;
}

/**
 * Resolves `true` once `client` is ready, or `false` after `timeoutMs` (it keeps reconnecting in
 * the background either way). Never rejects.
 */
export function waitForRedis(client: RedisConnection, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(client.status === 'ready'), Math.max(0, timeoutMs));
    timer.unref();
    client.on('ready', onReady);
  });
}

/**
 * Closes `client` politely (`QUIT`), or drops the connection when Redis does not answer within
 * `timeoutMs`; resolves once the connection has ended. Never rejects.
 */
export async function closeRedis(client: RedisConnection, timeoutMs = 1000): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    if (client.status === 'ready') {
      await Promise.race([client.quit().then(() => ended), timedOut]);
    }
  } catch {
    // Closing anyway.
  } finally {
    clearTimeout(timer);
  }
  if ((client.status as string) !== 'end') {
    client.disconnect();
    let endTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      ended,
      new Promise<void>((resolve) => {
        endTimer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(endTimer);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds`);
  }
  return value;
}
