import { randomUUID } from 'node:crypto';
import { closeRedis, type RedisConnection } from './redis-connection.js';

/**
 * A client cache that can be told to drop entries: `TypeOrmClientStore` is one. `invalidate` is
 * what `ClientRegistryService` calls after every change.
 */
export interface InvalidatableClientCache {
  invalidate(clientId: string): void;
  invalidateAll(): void;
}

/** Options of {@link RedisClientInvalidationBroadcast}. Every field has a default. */
export interface RedisClientInvalidationBroadcastOptions {
  /** Pub/sub channel; instances that share it share invalidations. Default `client-auth:client-invalidation`. */
  readonly channel?: string;
  /** Told about failed publications and subscriptions (they never reach a request). */
  readonly onError?: (error: unknown) => void;
  /** Close the subscriber connection in {@link RedisClientInvalidationBroadcast.close}. Default false. */
  readonly closeSubscriber?: boolean;
}

/** Counters of {@link RedisClientInvalidationBroadcast}, for tests and diagnostics. */
export interface ClientInvalidationStats {
  /** Invalidations sent to the other instances. */
  readonly published: number;
  /** Invalidations received from other instances and applied. */
  readonly received: number;
  /** Times the whole cache was dropped because the subscription was (re)established. */
  readonly resyncs: number;
}

/** Default channel of {@link RedisClientInvalidationBroadcast}. */
export const DEFAULT_INVALIDATION_CHANNEL = 'client-auth:client-invalidation';

/** Longest message accepted from the channel, in bytes. */
const MAX_MESSAGE_LENGTH = 1024;
/** Longest client id the registry stores. */
const MAX_CLIENT_ID_LENGTH = 255;

/**
 * Tells every instance sharing a Redis that a client changed, so each drops its cached copy at
 * once instead of serving it until the cache entry expires (SPEC S3, "a registry change on one
 * instance is honoured by the other within the documented bound").
 *
 * {@link attach} wraps the cache's `invalidate`: a local invalidation (which `ClientRegistryService`
 * performs after every committed change) drops the local entry as before and is then published
 * on the channel; a message from another instance drops the entry here without being published
 * again. Each message names only a client id; anyone able to publish on the channel can at most
 * cause extra database reads.
 *
 * Bounds: while the subscription is up, another instance sees a change as soon as the message
 * arrives (a Redis round trip, about a millisecond on a LAN), so in practice from its next
 * request on. Messages sent while an instance is cut off from Redis are lost; when its
 * subscription is (re)established it drops its whole cache, and until then the cache's own
 * time-to-live remains the bound (10 s by default for `TypeOrmClientStore`).
 *
 * Needs two connections: `publisher` for commands and a dedicated `subscriber` (a Redis connection
 * in subscriber mode cannot send other commands). The subscriber should keep its offline queue
 * (the default), so that subscribing waits for the connection instead of failing.
 *
 * @example
 * ```ts
 * const broadcast = new RedisClientInvalidationBroadcast(redis, redis.duplicate());
 * broadcast.attach(clientStore); // a TypeOrmClientStore
 * await broadcast.start();
 * ```
 */
export class RedisClientInvalidationBroadcast {
  /** Identifies this instance's messages, which it ignores when they come back. */
  readonly instanceId = randomUUID();
  readonly #publisher: RedisConnection;
  readonly #subscriber: RedisConnection;
  readonly #channel: string;
  readonly #onError: (error: unknown) => void;
  readonly #closeSubscriber: boolean;
  #cache: InvalidatableClientCache | undefined;
  #localInvalidate: ((clientId: string) => void) | undefined;
  #wrapped: ((clientId: string) => void) | undefined;
  #started = false;
  #closed = false;
  #subscribed: Promise<void> | undefined;
  #markSubscribed: (() => void) | undefined;
  #published = 0;
  #received = 0;
  #resyncs = 0;
  readonly #onMessage = (channel: string, message: string) => this.#receive(channel, message);
  readonly #onReady = () => void this.#subscribe();

  constructor(
    publisher: RedisConnection,
    subscriber: RedisConnection,
    options: RedisClientInvalidationBroadcastOptions = {},
  ) {
    if (publisher === subscriber) {
      throw new TypeError('the subscriber must be a connection of its own (use duplicate())');
    }
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.#channel = options.channel ?? DEFAULT_INVALIDATION_CHANNEL;
    this.#onError = options.onError ?? (() => undefined);
    this.#closeSubscriber = options.closeSubscriber ?? false;
  }

  /** The channel this broadcast publishes and listens on. */
  get channel(): string {
    return this.#channel;
  }

  /** Counters since construction. */
  get stats(): ClientInvalidationStats {
    return { published: this.#published, received: this.#received, resyncs: this.#resyncs };
  }

  /**
   * Makes every local `cache.invalidate(clientId)` also reach the other instances, and applies
   * theirs to `cache`. One cache per broadcast; {@link close} restores the original method.
   */
  attach(cache: InvalidatableClientCache): void {
    if (this.#cache) throw new Error('a cache is already attached');
    if (this.#closed) throw new Error('the broadcast is closed');
    const local = cache.invalidate.bind(cache);
    const wrapped = (clientId: string) => {
      local(clientId);
      this.publish(clientId);
    };
    this.#cache = cache;
    this.#localInvalidate = local;
    this.#wrapped = wrapped;
    cache.invalidate = wrapped;
  }

  /**
   * Subscribes to the channel (again after every reconnection). Resolves once the first
   * subscription is in place, or `false` when `timeoutMs` passes first — it keeps trying in the
   * background either way. Never rejects.
   */
  start(timeoutMs = 5000): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (!this.#started) {
      this.#started = true;
      this.#subscribed = new Promise<void>((resolve) => (this.#markSubscribed = resolve));
      this.#subscriber.on('message', this.#onMessage);
      this.#subscriber.on('ready', this.#onReady);
      if (this.#subscriber.status === 'ready') void this.#subscribe();
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      timer.unref();
      void this.#subscribed!.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Tells the other instances that `clientId` changed. Fire-and-forget: a failure goes to
   * `onError`, and the other instances then fall back to their cache time-to-live.
   */
  publish(clientId: string): void {
    if (this.#closed) return;
    const message = JSON.stringify({ v: 1, origin: this.instanceId, clientId });
    this.#publisher.publish(this.#channel, message).then(
      () => this.#published++,
      (error: unknown) => this.#onError(error),
    );
  }

  /**
   * Stops listening and restores the cache's own `invalidate`. Closes the subscriber connection
   * only with `closeSubscriber`; never the publisher.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#cache && this.#cache.invalidate === this.#wrapped && this.#localInvalidate) {
      // Restore the prototype method rather than keeping a bound copy as an own property.
      delete (this.#cache as { invalidate?: unknown }).invalidate;
      if (typeof this.#cache.invalidate !== 'function')
        this.#cache.invalidate = this.#localInvalidate;
    }
    this.#subscriber.off('message', this.#onMessage);
    this.#subscriber.off('ready', this.#onReady);
    if (this.#closeSubscriber) {
      await closeRedis(this.#subscriber);
    } else if (this.#started && this.#subscriber.status === 'ready') {
      await this.#subscriber.unsubscribe(this.#channel).catch(() => undefined);
    }
  }

  async #subscribe(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#subscriber.subscribe(this.#channel);
    } catch (error) {
      this.#onError(error);
      return;
    }
    // Messages sent while this instance was not subscribed are lost: anything cached may be
    // stale, so start afresh. The subscription is already in place, so no change can slip
    // between this drop and the next message.
    this.#resyncs++;
    this.#cache?.invalidateAll();
    this.#markSubscribed?.();
  }

  #receive(channel: string, message: string): void {
    if (channel !== this.#channel || this.#closed) return;
    if (typeof message !== 'string' || message.length > MAX_MESSAGE_LENGTH) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    const body = parsed as { v?: unknown; origin?: unknown; clientId?: unknown };
    if (typeof body !== 'object' || body === null || body.v !== 1) return;
    if (body.origin === this.instanceId) return;
    const clientId = body.clientId;
    if (typeof clientId !== 'string' || clientId.length === 0) return;
    if (clientId.length > MAX_CLIENT_ID_LENGTH) return;
    this.#received++;
    this.#localInvalidate?.(clientId);
  }
}
