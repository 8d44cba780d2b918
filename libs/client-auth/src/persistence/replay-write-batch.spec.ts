import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_REPLAY_BATCH_SIZE,
  type ReplayBatchEntry,
  ReplayWriteBatch,
} from './replay-write-batch.js';

const EXP = new Date('2026-01-01T00:00:00.000Z');

/** An in-memory insert-if-absent writer that records the batches it was given. */
function setWriter() {
  const stored = new Map<string, Date>();
  const batches: string[][] = [];
  const write = (entries: readonly ReplayBatchEntry[]): boolean[] => {
    batches.push(entries.map((entry) => entry.key));
    return entries.map((entry) => {
      if (stored.has(entry.key)) return false;
      stored.set(entry.key, entry.expiresAt);
      return true;
    });
  };
  return { stored, batches, write };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ReplayWriteBatch', () => {
  it('writes the calls of one event-loop turn as one batch, in call order', async () => {
    const writer = setWriter();
    const batch = new ReplayWriteBatch(writer.write);
    const answers = await Promise.all([
      batch.add('a', EXP),
      batch.add('b', EXP),
      batch.add('a', EXP),
      batch.add('c', EXP),
    ]);
    expect(writer.batches).toEqual([['a', 'b', 'a', 'c']]);
    expect(answers).toEqual([true, true, false, true]);
  });

  it('starts a new batch in a later turn', async () => {
    const writer = setWriter();
    const batch = new ReplayWriteBatch(writer.write);
    const first = batch.add('a', EXP);
    await nextTurn();
    const second = [batch.add('a', EXP), batch.add('b', EXP)];
    expect(await first).toBe(true);
    expect(await Promise.all(second)).toEqual([false, true]);
    expect(writer.batches).toEqual([['a'], ['a', 'b']]);
  });

  it('writes a batch as soon as it reaches maxBatchSize', async () => {
    const writer = setWriter();
    const batch = new ReplayWriteBatch(writer.write, { maxBatchSize: 3 });
    const answers = Array.from({ length: 7 }, (_, i) => batch.add(`k${i}`, EXP));
    expect(batch.waiting).toBe(1);
    // The full batches are handed over before the turn ends (within microtasks).
    await Promise.resolve();
    expect(writer.batches).toEqual([
      ['k0', 'k1', 'k2'],
      ['k3', 'k4', 'k5'],
    ]);
    expect(await Promise.all(answers)).toEqual(Array(7).fill(true));
    expect(writer.batches).toHaveLength(3);
    expect(writer.batches[2]).toEqual(['k6']);
    expect(batch.waiting).toBe(0);
  });

  it('uses a cap of 256 by default', async () => {
    const writer = setWriter();
    const batch = new ReplayWriteBatch(writer.write);
    await Promise.all(Array.from({ length: 600 }, (_, i) => batch.add(`k${i}`, EXP)));
    expect(DEFAULT_REPLAY_BATCH_SIZE).toBe(256);
    expect(writer.batches.map((keys) => keys.length)).toEqual([256, 256, 88]);
  });

  it('hands each entry its key and expiry', async () => {
    const writer = setWriter();
    const batch = new ReplayWriteBatch(writer.write);
    const later = new Date(EXP.getTime() + 1000);
    await Promise.all([batch.add('a', EXP), batch.add('b', later)]);
    expect([...writer.stored]).toEqual([
      ['a', EXP],
      ['b', later],
    ]);
  });

  it('answers only once the writer has finished', async () => {
    const pending = deferred<boolean[]>();
    const batch = new ReplayWriteBatch(() => pending.promise);
    let settled = false;
    const answer = batch.add('a', EXP).finally(() => {
      settled = true;
    });
    await nextTurn();
    await nextTurn();
    expect(settled).toBe(false);
    pending.resolve([true]);
    expect(await answer).toBe(true);
  });

  it('fails every caller of a failed batch, and the next batch works', async () => {
    const writer = setWriter();
    const failure = new Error('disk I/O error');
    let fail = true;
    const batch = new ReplayWriteBatch(async (entries) => {
      if (fail) throw failure;
      return writer.write(entries);
    });
    const failed = await Promise.allSettled([batch.add('a', EXP), batch.add('b', EXP)]);
    expect(failed).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    fail = false;
    expect(await Promise.all([batch.add('a', EXP), batch.add('b', EXP)])).toEqual([true, true]);
  });

  it('fails only the batch whose write failed when batches overlap', async () => {
    const first = deferred<boolean[]>();
    const calls: string[][] = [];
    const batch = new ReplayWriteBatch((entries) => {
      calls.push(entries.map((entry) => entry.key));
      return calls.length === 1 ? first.promise : entries.map(() => true);
    });
    const a = batch.add('a', EXP);
    await nextTurn();
    // The second batch is written while the first is still in flight.
    const b = batch.add('b', EXP);
    expect(await b).toBe(true);
    expect(calls).toEqual([['a'], ['b']]);
    first.reject(new Error('connection reset'));
    await expect(a).rejects.toThrow('connection reset');
  });

  it('turns a writer that throws synchronously into a failed batch', async () => {
    const batch = new ReplayWriteBatch(() => {
      throw new TypeError('The database connection is not open');
    });
    const answer = batch.add('a', EXP);
    await expect(answer).rejects.toThrow('The database connection is not open');
  });

  it.each([
    ['too few', [true]],
    ['too many', [true, true, true]],
    ['not an array', 'yes' as unknown as boolean[]],
  ])('fails the batch when the writer answers %s', async (_label, answers) => {
    const batch = new ReplayWriteBatch(() => answers);
    const results = await Promise.allSettled([batch.add('a', EXP), batch.add('b', EXP)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
  });

  it('answers true only for a literal true', async () => {
    const batch = new ReplayWriteBatch(() => [1, 'true', true] as unknown as boolean[]);
    const answers = await Promise.all(['a', 'b', 'c'].map((key) => batch.add(key, EXP)));
    expect(answers).toEqual([false, false, true]);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses maxBatchSize %p',
    (maxBatchSize) => {
      expect(() => new ReplayWriteBatch(() => [], { maxBatchSize })).toThrow(RangeError);
    },
  );
});
