/** The answer of a rate limiter for one request. */
export interface RateLimitDecision {
  /** Whether the request may proceed. */
  readonly allowed: boolean;
  /** Whole requests left in the bucket after this one. */
  readonly remaining: number;
  /** When refused: seconds until one request is allowed again (at least 1). 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/** Options of {@link TokenBucketLimiter}. */
export interface TokenBucketLimiterOptions {
  /**
   * Bound on tracked keys; beyond it the least recently used bucket is forgotten (which gives
   * that key a full bucket again). Default 10000.
   */
  readonly maxKeys?: number;
  /** Longest key kept as is; longer keys are cut (they are ids and addresses). Default 256. */
  readonly maxKeyLength?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Defaults of {@link TokenBucketLimiterOptions}. */
export const TOKEN_BUCKET_DEFAULTS = { maxKeys: 10_000, maxKeyLength: 256 } as const;

/**
 * In-memory token buckets, one per key, for "N requests per minute" limits: a bucket holds up
 * to N requests (the burst) and refills continuously at N per minute. Memory is bounded by
 * `maxKeys` (least recently used buckets are dropped first). State is per process: with several
 * instances each enforces the limit on its own share of the traffic.
 *
 * @example
 * ```ts
 * const limiter = new TokenBucketLimiter();
 * const decision = limiter.consume(`ip:${req.ip}`, 60);
 * if (!decision.allowed) res.set('Retry-After', String(decision.retryAfterSeconds)).status(429);
 * ```
 */
export class TokenBucketLimiter {
  readonly #maxKeys: number;
  readonly #maxKeyLength: number;
  readonly #now: () => number;
  /** Insertion order is recency order: a touched bucket moves to the end. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketLimiterOptions = {}) {
    this.#maxKeys = options.maxKeys ?? TOKEN_BUCKET_DEFAULTS.maxKeys;
    this.#maxKeyLength = options.maxKeyLength ?? TOKEN_BUCKET_DEFAULTS.maxKeyLength;
    if (!Number.isSafeInteger(this.#maxKeys) || this.#maxKeys < 1) {
      throw new RangeError('maxKeys must be a positive integer');
    }
    if (!Number.isSafeInteger(this.#maxKeyLength) || this.#maxKeyLength < 1) {
      throw new RangeError('maxKeyLength must be a positive integer');
    }
    this.#now = options.now ?? Date.now;
  }

  /** Buckets currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one request from `key`'s bucket of `perMinute` requests per minute. A limit of 0 (or
   * less) means no limit: always allowed, nothing tracked.
   */
  consume(key: string, perMinute: number): RateLimitDecision {
    return this.#decide(key, perMinute, true);
  }

  /** Whether `key` could take one request now, without taking it. Tracks nothing new. */
  peek(key: string, perMinute: number): RateLimitDecision {
    return this.#decide(key, perMinute, false);
  }

  /** Forgets every bucket. */
  clear(): void {
    this.#buckets.clear();
  }

  #decide(rawKey: string, perMinute: number, take: boolean): RateLimitDecision {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) {
      return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterSeconds: 0 };
    }
    const key = rawKey.length > this.#maxKeyLength ? rawKey.slice(0, this.#maxKeyLength) : rawKey;
    const now = this.#now();
    const perMs = perMinute / 60_000;
    const bucket = this.#buckets.get(key);
    let tokens = perMinute;
    if (bucket) {
      const elapsed = Math.max(0, now - bucket.updatedAt);
      tokens = Math.min(perMinute, bucket.tokens + elapsed * perMs);
    }
    const allowed = tokens >= 1;
    const after = allowed ? tokens - 1 : tokens;
    if (take) this.#store(key, { tokens: after, updatedAt: now }, bucket !== undefined);
    return {
      allowed,
      remaining: Math.max(0, Math.floor(after)),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
    };
  }

  #store(key: string, bucket: Bucket, existed: boolean): void {
    if (existed) this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    while (this.#buckets.size > this.#maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
  }
}
