/**
 * A bounded map whose entries expire: least-recently-used eviction beyond `maxEntries`, expiry
 * checked on read against a caller-supplied clock (no timers). Internal to the stores.
 */
export class TtlLruCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {
    if (!(maxEntries >= 1)) throw new RangeError('cache needs room for at least one entry');
  }

  /** The live entry for `key` (refreshing its recency), or undefined. */
  get(key: string, now: number): { value: V } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return { value: entry.value };
  }

  /** Stores `value` for the TTL, evicting the least recently used entry when full. */
  set(key: string, value: V, now: number): void {
    if (this.ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: now + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Drops `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.#entries.clear();
  }

  /** Number of stored entries (live or not yet noticed as expired). */
  get size(): number {
    return this.#entries.size;
  }
}
