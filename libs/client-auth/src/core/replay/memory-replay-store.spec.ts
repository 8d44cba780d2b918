import { describe, it, expect } from '@jest/globals';
import { DependencyUnavailableError } from '../errors.js';
import { MemoryReplayStore } from './memory-replay-store.js';

const T0 = 1_900_000_000_000;

/** A store on a clock the test moves by hand. */
function storeAt(options: { maxEntries?: number; purgeIntervalMs?: number } = {}) {
  const clock = { now: T0 };
  const store = new MemoryReplayStore({ purgeIntervalMs: 0, ...options, clock: () => clock.now });
  return { store, clock };
}

describe('MemoryReplayStore (SPEC S5)', () => {
  it('accepts a key once, then reports replays until it expires', async () => {
    const { store, clock } = storeAt();
    const expiresAt = new Date(T0 + 60_000);
    expect(await store.consume('k', expiresAt)).toBe(true);
    expect(await store.consume('k', expiresAt)).toBe(false);
    clock.now = T0 + 59_999;
    expect(await store.consume('k', expiresAt)).toBe(false);
    // At the expiry instant the entry no longer counts (lazy expiry) and the key is usable again.
    clock.now = T0 + 60_000;
    expect(await store.consume('k', new Date(T0 + 120_000))).toBe(true);
    expect(await store.consume('k', new Date(T0 + 120_000))).toBe(false);
  });

  it('keeps keys independent', async () => {
    const { store } = storeAt();
    expect(await store.consume('a', new Date(T0 + 1000))).toBe(true);
    expect(await store.consume('b', new Date(T0 + 1000))).toBe(true);
  });

  it('lets exactly one of many concurrent consumers win', async () => {
    const { store } = storeAt();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => store.consume('same', new Date(T0 + 1000))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('purges expired entries on demand', async () => {
    const { store, clock } = storeAt();
    await store.consume('short', new Date(T0 + 1000));
    await store.consume('long', new Date(T0 + 100_000));
    expect(store.size).toBe(2);
    expect(await store.purgeExpired(new Date(T0 + 999))).toBe(0);
    expect(await store.purgeExpired(new Date(T0 + 1000))).toBe(1);
    expect(store.size).toBe(1);
    clock.now = T0 + 100_000;
    expect(await store.purgeExpired()).toBe(1);
    expect(store.size).toBe(0);
  });

  it('purges on its timer, which does not keep the process alive', async () => {
    const clock = { now: T0 };
    const store = new MemoryReplayStore({ purgeIntervalMs: 5, clock: () => clock.now });
    try {
      const timer = (store as unknown as { timer: NodeJS.Timeout }).timer;
      expect(timer.hasRef()).toBe(false);
      await store.consume('k', new Date(T0 + 1));
      clock.now = T0 + 2;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(store.size).toBe(0);
    } finally {
      store.close();
    }
  });

  it('when full, purges expired entries to make room', async () => {
    const { store, clock } = storeAt({ maxEntries: 2 });
    await store.consume('a', new Date(T0 + 1000));
    await store.consume('b', new Date(T0 + 5000));
    clock.now = T0 + 1000;
    expect(await store.consume('c', new Date(T0 + 5000))).toBe(true);
    expect(store.size).toBe(2);
    expect(await store.consume('b', new Date(T0 + 5000))).toBe(false);
  });

  it('when full of live entries, refuses (503) instead of evicting one', async () => {
    const { store } = storeAt({ maxEntries: 2 });
    await store.consume('a', new Date(T0 + 1000));
    await store.consume('b', new Date(T0 + 1000));
    const error = await store.consume('c', new Date(T0 + 1000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).status).toBe(503);
    // The live entries are intact: their replays are still detected.
    expect(await store.consume('a', new Date(T0 + 1000))).toBe(false);
    expect(await store.consume('b', new Date(T0 + 1000))).toBe(false);
  });

  it('reports a replay of a live key even when full', async () => {
    const { store } = storeAt({ maxEntries: 1 });
    await store.consume('a', new Date(T0 + 1000));
    expect(await store.consume('a', new Date(T0 + 1000))).toBe(false);
  });

  it('close() is idempotent', () => {
    const store = new MemoryReplayStore();
    store.close();
    store.close();
    expect(store.size).toBe(0);
  });
});
