import { describe, expect, it } from '@jest/globals';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  resolveRetryPolicy,
  sleep,
} from './retry.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Tue, 01 Jan 2030 12:00:30 GMT', 30_000],
    ['Tuesday, 01-Jan-30 12:00:05 GMT', 5_000],
    ['Tue Jan  1 12:01:00 2030', 60_000], // asctime-date: GMT without saying so
    ['Tue, 01 Jan 2030 11:59:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
  it.each([
    [1, 0, 50],
    [1, 1, 100],
    [2, 0, 100],
    [2, 1, 200],
    [3, 0.5, 300],
    [10, 1, 1000],
    [10, 0, 500],
  ])('retry %i with random %f waits %i ms (equal jitter, capped)', (retry, random, expected) => {
    expect(backoffDelay(retry, policy, () => random)).toBe(expected);
  });

  it('stays within [ceiling/2, ceiling] for any random value', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(3, policy);
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });
});

describe('resolveRetryPolicy', () => {
  it('fills defaults, and false disables retries', () => {
    expect(resolveRetryPolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ maxAttempts: 5 }).maxAttempts).toBe(5);
    expect(resolveRetryPolicy(false).maxAttempts).toBe(1);
  });
  it.each([
    { maxAttempts: 0 },
    { maxAttempts: 11 },
    { maxAttempts: 1.5 },
    { baseDelayMs: -1 },
    { maxRetryAfterMs: NaN },
  ])('refuses %j', (policy) => {
    expect(() => resolveRetryPolicy(policy)).toThrow(ClientAuthConfigurationError);
  });
});

describe('sleep', () => {
  it('waits, and stops early when aborted', async () => {
    const start = Date.now();
    await sleep(30);
    expect(Date.now() - start).toBeGreaterThanOrEqual(25);
    const controller = new AbortController();
    const waiting = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});
