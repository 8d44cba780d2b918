import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';

/** How transient failures (network, timeout, 5xx, 429) are retried. */
export interface RetryPolicy {
  /** Total attempts, the first included. 1 disables retries. Default 3. */
  readonly maxAttempts: number;
  /** Backoff before the first retry, in ms; doubles with each retry. Default 200. */
  readonly baseDelayMs: number;
  /** Ceiling of one backoff delay, in ms. Default 5000. */
  readonly maxDelayMs: number;
  /**
   * Longest `Retry-After` honoured, in ms. A server asking for a longer wait gets no retry: the
   * error is raised at once, with `retryAfterMs` set. Default 30000.
   */
  readonly maxRetryAfterMs: number;
}

/** Defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxRetryAfterMs: 30_000,
});

/** Completes a partial policy with the defaults and validates it. `false` means no retries. */
export function resolveRetryPolicy(policy: Partial<RetryPolicy> | false | undefined): RetryPolicy {
  if (policy === false) return { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 };
  const resolved = { ...DEFAULT_RETRY_POLICY, ...policy };
  if (
    !Number.isInteger(resolved.maxAttempts) ||
    resolved.maxAttempts < 1 ||
    resolved.maxAttempts > 10
  ) {
    throw new ClientAuthConfigurationError('retry.maxAttempts must be an integer from 1 to 10');
  }
  for (const name of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!Number.isFinite(resolved[name]) || resolved[name] < 0) {
      throw new ClientAuthConfigurationError(`retry.${name} must be a non-negative number`);
    }
  }
  return resolved;
}

/**
 * Delay before retry number `retry` (1 for the first retry): exponential backoff capped at
 * `maxDelayMs`, with "equal jitter" — half the delay fixed, half random — so that clients
 * failing together do not retry together, yet always wait at least half the backoff.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jitter = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * jitter);
}

const DELAY_SECONDS = /^\d+$/;

/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date (IMF-fixdate
 * and the obsolete forms `Date.parse` reads). Returns the delay in ms from `nowMs` (0 for a
 * date in the past), or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (DELAY_SECONDS.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  // Every HTTP-date form starts with a day name; asctime-date carries no zone but means GMT.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(/GMT$/i.test(text) ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
