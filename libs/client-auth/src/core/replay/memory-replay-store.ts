import { DependencyUnavailableError } from '../errors.js';
import type { ReplayStore } from './replay-store.interface.js';

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most entries held at once. Default 100 000. */
  readonly maxEntries?: number;
  /** Interval of the background purge, in ms (0 disables it). Default 60 000. */
  readonly purgeIntervalMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly clock?: () => number;
}

/**
 * In-memory {@link ReplayStore} for a single process (SPEC S5). `consume` checks and sets in one
 * synchronous step on a `Map`, so concurrent calls in this process can never both see a key as
 * absent: exactly one resolves `true`. Instances do not share state — use the TypeORM or Redis
 * store when several processes serve the same clients.
 *
 * Expired entries are purged lazily (an expired entry counts as absent) and on an `unref()`'d
 * timer. The store is bounded: when full it first purges expired entries, and if it is still full
 * it refuses with {@link DependencyUnavailableError} (503) instead of evicting a live entry —
 * evicting would forget a `jti` that is still valid and let that assertion be replayed, so
 * failing closed is the only safe answer.
 *
 * @example
 * ```ts
 * const store = new MemoryReplayStore({ maxEntries: 50_000 });
 * const first = await store.consume(replayKey(method, clientId, jti), expiresAt); // true, then false
 * ```
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.clock = options.clock ?? Date.now;
    const interval = options.purgeIntervalMs ?? 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.purgeSync(this.clock()), interval);
      this.timer.unref();
    }
  }

  /** Number of entries held (expired ones not yet purged included). */
  get size(): number {
    return this.entries.size;
  }

  /** Atomic insert-if-absent (SPEC S5); see the class description for the full-store rule. */
  consume(key: string, expiresAt: Date): Promise<boolean> {
    const now = this.clock();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > now) return Promise.resolve(false);
    if (existing === undefined && this.entries.size >= this.maxEntries) {
      this.purgeSync(now);
      if (this.entries.size >= this.maxEntries) {
        return Promise.reject(
          new DependencyUnavailableError('replay-store', {
            cause: new Error(`memory replay store is full (${this.maxEntries} live entries)`),
          }),
        );
      }
    }
    this.entries.set(key, expiresAt.getTime());
    return Promise.resolve(true);
  }

  /** Deletes entries whose expiry is at or before `now`; resolves how many were removed. */
  purgeExpired(now: Date = new Date(this.clock())): Promise<number> {
    return Promise.resolve(this.purgeSync(now.getTime()));
  }

  /** Stops the background purge timer. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private purgeSync(now: number): number {
    let removed = 0;
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
