import { describe, expect, it } from '@jest/globals';
import { TokenBucketLimiter } from './token-bucket-limiter.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('TokenBucketLimiter', () => {
  it('admits a burst of the per-minute limit, then refuses with the time to the next slot', () => {
    const time = clock();
    const limiter = new TokenBucketLimiter({ now: time.now });
    const decisions = Array.from({ length: 4 }, () => limiter.consume('k', 3));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    // 3 per minute: one request every 20 s.
    expect(decisions[3]!.retryAfterSeconds).toBe(20);
    time.advance(5_000);
    expect(limiter.consume('k', 3)).toMatchObject({ allowed: false, retryAfterSeconds: 15 });
  });

  it.each([
    [60, 1_000, 1],
    [60, 999, 0],
    [6, 10_000, 1],
    [6, 25_000, 2],
    [6, 3_600_000, 6], // never more than the burst
  ])('refills continuously: %i/min after %i ms gives %i request(s)', (limit, ms, expected) => {
    const time = clock();
    const limiter = new TokenBucketLimiter({ now: time.now });
    for (let i = 0; i < limit; i++) expect(limiter.consume('k', limit).allowed).toBe(true);
    time.advance(ms);
    let admitted = 0;
    while (limiter.consume('k', limit).allowed) admitted++;
    expect(admitted).toBe(expected);
  });

  it('keeps keys apart', () => {
    const limiter = new TokenBucketLimiter();
    expect(limiter.consume('a', 1).allowed).toBe(true);
    expect(limiter.consume('a', 1).allowed).toBe(false);
    expect(limiter.consume('b', 1).allowed).toBe(true);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'treats a limit of %p as no limit and tracks nothing',
    (limit) => {
      const limiter = new TokenBucketLimiter();
      for (let i = 0; i < 100; i++) expect(limiter.consume('k', limit).allowed).toBe(true);
      expect(limiter.size).toBe(0);
    },
  );

  it('peek answers without taking and without tracking a new key', () => {
    const limiter = new TokenBucketLimiter();
    expect(limiter.peek('fresh', 1)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.size).toBe(0);
    expect(limiter.consume('fresh', 1).allowed).toBe(true);
    expect(limiter.peek('fresh', 1)).toMatchObject({ allowed: false });
    expect(limiter.peek('fresh', 1).retryAfterSeconds).toBeGreaterThanOrEqual(59);
  });

  it('bounds memory: beyond maxKeys the least recently used bucket is dropped', () => {
    const limiter = new TokenBucketLimiter({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.consume(`ip-${i}`, 10);
    expect(limiter.size).toBe(100);
    // The newest keys survive; the oldest were forgotten (a fresh bucket).
    const kept = new TokenBucketLimiter({ maxKeys: 2 });
    kept.consume('old', 1);
    kept.consume('recent', 1);
    kept.consume('old', 1); // touching moves it to the end
    kept.consume('new', 1);
    expect(kept.consume('recent', 1).allowed).toBe(true); // evicted, so full again
    expect(kept.consume('new', 1).allowed).toBe(false);
  });

  it('cuts very long keys to a bounded length', () => {
    const limiter = new TokenBucketLimiter({ maxKeyLength: 8 });
    expect(limiter.consume(`${'x'.repeat(8)}-one`, 1).allowed).toBe(true);
    expect(limiter.consume(`${'x'.repeat(8)}-two`, 1).allowed).toBe(false);
  });

  it('refuses invalid bounds', () => {
    expect(() => new TokenBucketLimiter({ maxKeys: 0 })).toThrow(RangeError);
    expect(() => new TokenBucketLimiter({ maxKeyLength: 1.5 })).toThrow(RangeError);
  });
});
