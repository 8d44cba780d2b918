import { OAuthError } from '../../core/errors.js';

/**
 * A request refused by a rate limit: HTTP 429 (RFC 6585 §4) with `Retry-After`, and the OAuth
 * error body `{"error": "temporarily_unavailable", …}` — RFC 6749 defines no error code for
 * rate limiting; `temporarily_unavailable` (§4.1.2.1, "temporary overloading") is the closest
 * and is what OAuth clients already treat as retryable.
 */
export class RateLimitExceededError extends OAuthError {
  /** Seconds until the caller may try again (the `Retry-After` value). */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super(
      'temporarily_unavailable',
      `too many requests; retry after ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`,
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** 429 Too Many Requests (RFC 6585 §4), not the 503 of an outage. */
  override get status(): number {
    return 429;
  }
}
