import type { JWK } from 'jose';
import { JwksFetcher, type JwksFetcherOptions, type JwksFetchResult } from './jwks-fetcher.js';
import { parseJwks } from './jwks-validation.js';
import type { KeySetSnapshot, RemoteKeySetProvider } from './remote-key-set.interface.js';

/** Options of {@link JwksCache}; every field has a default (SPEC S6). */
export interface JwksCacheOptions {
  /** Floor of the lifetime taken from `Cache-Control`, in seconds. Default 60. */
  readonly minTtlSeconds?: number;
  /** Ceiling of the lifetime, also used without `Cache-Control`, in seconds. Default 300. */
  readonly maxTtlSeconds?: number;
  /** At most one fetch per URL per this many seconds, failures included. Default 30. */
  readonly cooldownSeconds?: number;
  /** How long after expiry a set is still served while refetches fail, in seconds. Default 3600. */
  readonly maxStaleSeconds?: number;
  /** Bound on cached URLs (least recently used evicted first). Default 1000. */
  readonly maxEntries?: number;
  /** Fetches one set. Default: a {@link JwksFetcher} built from `fetch`. */
  readonly fetcher?: (uri: string) => Promise<JwksFetchResult>;
  /** Options of the default fetcher (allow list, time and size caps, resolver). */
  readonly fetch?: JwksFetcherOptions;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** Defaults of {@link JwksCacheOptions} (SPEC S6). */
export const JWKS_CACHE_DEFAULTS = {
  minTtlSeconds: 60,
  maxTtlSeconds: 300,
  cooldownSeconds: 30,
  maxStaleSeconds: 3600,
  maxEntries: 1000,
} as const;

/** Counters of a {@link JwksCache}, for metrics (SPEC S10). */
export interface JwksCacheStats {
  /** URLs currently cached. */
  readonly entries: number;
  /** Fetches started. */
  readonly fetches: number;
  /** `get` answered from a fresh entry. */
  readonly hits: number;
  /** `get` that needed a fetch (or joined one in flight). */
  readonly misses: number;
  /** Fetches that failed. */
  readonly errors: number;
  /** Failures answered with a stale set. */
  readonly staleServed: number;
  /** Callers that joined a fetch already in flight. */
  readonly collapsed: number;
  /** Entries evicted by the `maxEntries` bound. */
  readonly evictions: number;
}

interface Entry {
  /** The last valid set. */
  snapshot?: KeySetSnapshot;
  /** When `snapshot` becomes stale (epoch ms). */
  expiresAt: number;
  /** When the last fetch started (epoch ms), success or failure. */
  lastAttemptAt?: number;
  /** The last fetch's error, cleared by a success. */
  lastError?: unknown;
  inFlight?: Promise<KeySetSnapshot>;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative number`);
  }
  return v;
}

/**
 * The remote key set cache of SPEC S6, implementing {@link RemoteKeySetProvider}:
 * - a fresh entry is served without a fetch, as the same snapshot object (and the same JWK
 *   objects, so callers may key a `WeakMap` on them);
 * - the lifetime is `Cache-Control` `max-age` clamped to [`minTtlSeconds`, `maxTtlSeconds`]
 *   (`no-store`/`no-cache` get the floor; no header gets the ceiling);
 * - concurrent callers share one fetch per URL;
 * - at most one fetch per URL per `cooldownSeconds`: `refresh()` within it resolves `undefined`,
 *   and a failure is rethrown (or the stale set served) without a new fetch;
 * - on a failed fetch a set is served up to `maxStaleSeconds` after it expired, then the error is
 *   thrown; an invalid set is never cached;
 * - at most `maxEntries` URLs, least recently used evicted first.
 *
 * @example
 * ```ts
 * const keySets = new JwksCache({ fetch: { allowHosts: ['localhost'] } });
 * const { keys } = await keySets.get('https://client.example.com/jwks.json');
 * ```
 */
export class JwksCache implements RemoteKeySetProvider {
  readonly #minTtlMs: number;
  readonly #maxTtlMs: number;
  readonly #cooldownMs: number;
  readonly #maxStaleMs: number;
  readonly #maxEntries: number;
  readonly #fetcher: (uri: string) => Promise<JwksFetchResult>;
  readonly #now: () => number;
  /** Insertion order is recency order: a touched entry is moved to the end. */
  readonly #entries = new Map<string, Entry>();
  readonly #counters = {
    fetches: 0,
    hits: 0,
    misses: 0,
    errors: 0,
    staleServed: 0,
    collapsed: 0,
    evictions: 0,
  };

  constructor(options: JwksCacheOptions = {}) {
    const d = JWKS_CACHE_DEFAULTS;
    const minTtl = nonNegative('minTtlSeconds', options.minTtlSeconds, d.minTtlSeconds);
    const maxTtl = nonNegative('maxTtlSeconds', options.maxTtlSeconds, d.maxTtlSeconds);
    if (minTtl > maxTtl) throw new RangeError('minTtlSeconds must not exceed maxTtlSeconds');
    this.#minTtlMs = minTtl * 1000;
    this.#maxTtlMs = maxTtl * 1000;
    this.#cooldownMs =
      nonNegative('cooldownSeconds', options.cooldownSeconds, d.cooldownSeconds) * 1000;
    this.#maxStaleMs =
      nonNegative('maxStaleSeconds', options.maxStaleSeconds, d.maxStaleSeconds) * 1000;
    this.#maxEntries = options.maxEntries ?? d.maxEntries;
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new RangeError('maxEntries must be a positive integer');
    }
    this.#now = options.now ?? Date.now;
    if (options.fetcher) {
      this.#fetcher = options.fetcher;
    } else {
      const fetcher = new JwksFetcher(options.fetch);
      this.#fetcher = (uri) => fetcher.fetch(uri);
    }
  }

  /** The cached set, fetched when missing or expired; see the class rules. */
  get(uri: string): Promise<KeySetSnapshot> {
    const now = this.#now();
    const entry = this.#touch(uri);
    if (entry?.snapshot && now < entry.expiresAt) {
      this.#counters.hits++;
      return Promise.resolve(entry.snapshot);
    }
    this.#counters.misses++;
    if (entry?.inFlight) {
      this.#counters.collapsed++;
      return entry.inFlight;
    }
    // At most one fetch per cooldown, failures included (no hammering of a broken URL): within
    // it, the stale set (within its bound) or the last error answers.
    if (entry && this.#coolingDown(entry, now)) {
      if (entry.snapshot && now <= entry.expiresAt + this.#maxStaleMs) {
        this.#counters.staleServed++;
        return Promise.resolve(entry.snapshot);
      }
      if (entry.lastError !== undefined) return Promise.reject(entry.lastError);
    }
    return this.#fetch(uri, entry);
  }

  /**
   * Refetches unless the last fetch of `uri` (success or failure) started within the cooldown;
   * then resolves `undefined`. A fetch already in flight is joined.
   */
  refresh(uri: string): Promise<KeySetSnapshot | undefined> {
    const entry = this.#touch(uri);
    if (entry?.inFlight) {
      this.#counters.collapsed++;
      return entry.inFlight;
    }
    if (entry && this.#coolingDown(entry, this.#now())) return Promise.resolve(undefined);
    return this.#fetch(uri, entry);
  }

  /** Forgets `uri` (e.g. when a client's `jwks_uri` changes). */
  delete(uri: string): boolean {
    return this.#entries.delete(uri);
  }

  /** Forgets every URL. */
  clear(): void {
    this.#entries.clear();
  }

  /** Counters since construction, for metrics. */
  stats(): JwksCacheStats {
    return { entries: this.#entries.size, ...this.#counters };
  }

  #coolingDown(entry: Entry, now: number): boolean {
    return entry.lastAttemptAt !== undefined && now - entry.lastAttemptAt < this.#cooldownMs;
  }

  /** The stale set when within `maxStaleSeconds` of its expiry, else a rejection with `error`. */
  #staleOr(entry: Entry, now: number, error: unknown): Promise<KeySetSnapshot> {
    if (entry.snapshot && now <= entry.expiresAt + this.#maxStaleMs) {
      this.#counters.staleServed++;
      return Promise.resolve(entry.snapshot);
    }
    return Promise.reject(error);
  }

  #touch(uri: string): Entry | undefined {
    const entry = this.#entries.get(uri);
    if (entry) {
      this.#entries.delete(uri);
      this.#entries.set(uri, entry);
    }
    return entry;
  }

  #fetch(uri: string, existing: Entry | undefined): Promise<KeySetSnapshot> {
    const entry: Entry = existing ?? { expiresAt: 0 };
    if (!existing) {
      this.#entries.set(uri, entry);
      while (this.#entries.size > this.#maxEntries) {
        this.#entries.delete(this.#entries.keys().next().value as string);
        this.#counters.evictions++;
      }
    }
    entry.lastAttemptAt = this.#now();
    this.#counters.fetches++;
    let done = false;
    const run = async (): Promise<KeySetSnapshot> => {
      try {
        const result = await this.#fetcher(uri);
        // Never cache an invalid set, whatever fetcher produced it (SPEC S6).
        const keys = parseJwks(result?.jwks, { ignoreUnusableKeys: true });
        const now = this.#now();
        const snapshot: KeySetSnapshot = Object.freeze({
          keys: reuseUnchanged(entry.snapshot?.keys, keys),
          fetchedAt: now,
        });
        entry.snapshot = snapshot;
        entry.expiresAt = now + this.#ttlMs(result);
        entry.lastError = undefined;
        return snapshot;
      } catch (error) {
        this.#counters.errors++;
        entry.lastError = error;
        return this.#staleOr(entry, this.#now(), error);
      } finally {
        done = true;
        entry.inFlight = undefined;
      }
    };
    const promise = run();
    // A fetcher that throws synchronously has already settled `run`: nothing is in flight.
    if (!done) entry.inFlight = promise;
    return promise;
  }

  /** SPEC S6: `Cache-Control` within the floor and the ceiling; the ceiling without one. */
  #ttlMs(result: JwksFetchResult): number {
    const declared =
      result.noStore || result.noCache
        ? 0
        : result.cacheControlMaxAge === undefined
          ? this.#maxTtlMs
          : result.cacheControlMaxAge * 1000;
    return Math.min(this.#maxTtlMs, Math.max(this.#minTtlMs, declared));
  }
}

/**
 * Keeps the previous JWK object for every key whose JSON is unchanged, so imported keys cached
 * on the JWK object (`WeakMap`) survive a refetch of an unchanged set.
 */
function reuseUnchanged(
  previous: readonly JWK[] | undefined,
  next: readonly JWK[],
): readonly JWK[] {
  if (!previous || previous.length === 0) return next;
  const known = new Map(previous.map((key) => [JSON.stringify(key), key]));
  return Object.freeze(next.map((key) => known.get(JSON.stringify(key)) ?? key));
}
