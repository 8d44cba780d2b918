/**
 * Errors of the outgoing side (SPEC S7): signing client assertions, obtaining access tokens and
 * calling protected APIs. They never carry a secret, a private key or a full assertion.
 */

/** Stable codes of {@link OutgoingAuthError}. */
export type OutgoingAuthErrorCode =
  /** Options are invalid or contradictory; thrown when the client or signer is constructed. */
  | 'configuration_invalid'
  /** Key material cannot sign with the requested algorithm (wrong type, too short, public only). */
  | 'key_invalid'
  /** Producing a signature failed, or a signing callback returned an unusable signature. */
  | 'signing_failed'
  /** An assertion provider could not produce an assertion (file missing, token expired…). */
  | 'assertion_unavailable'
  /** Authorization server metadata could not be obtained or is invalid (RFC 8414 §3). */
  | 'discovery_failed'
  /** The token endpoint answered with an error (RFC 6749 §5.2) or an unexpected status. */
  | 'token_endpoint_error'
  /** The token endpoint could not be reached (network error or timeout), after retries. */
  | 'token_request_failed'
  /** The token endpoint answered 2xx with a body that is not a usable token response. */
  | 'token_response_invalid';

/**
 * Base class of every outgoing-side error. `code` is stable and safe to alert on; `message`
 * never contains a secret, key material or an assertion.
 */
export class OutgoingAuthError extends Error {
  /** Stable machine-readable code. */
  readonly code: OutgoingAuthErrorCode;

  constructor(code: OutgoingAuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Options of a token client, signer or key source are invalid — for example a client configured
 * with both a secret and an assertion provider (SPEC S7). Thrown at construction, so a
 * misconfigured application fails at start-up.
 */
export class ClientAuthConfigurationError extends OutgoingAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('configuration_invalid', message, options);
  }
}

/** Key material is unusable (`key_invalid`), or signing with it failed (`signing_failed`). */
export class SigningKeyError extends OutgoingAuthError {
  constructor(
    code: 'key_invalid' | 'signing_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** An assertion provider (federated token callback, projected token file) failed. */
export class AssertionProviderError extends OutgoingAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('assertion_unavailable', message, options);
  }
}

/** Authorization server metadata could not be discovered or failed validation (RFC 8414 §3). */
export class DiscoveryError extends OutgoingAuthError {
  /** The issuer being discovered. */
  readonly issuer: string;
  /** HTTP status of the last metadata response, when one was received. */
  readonly status?: number;
  /** Whether the failure is transient (network, timeout, 5xx, 429) and worth retrying. */
  readonly transient: boolean;

  constructor(
    issuer: string,
    message: string,
    init: { status?: number; transient?: boolean; cause?: unknown } = {},
  ) {
    super('discovery_failed', message, { cause: init.cause });
    this.issuer = issuer;
    this.status = init.status;
    this.transient = init.transient ?? false;
  }
}

/** What {@link TokenEndpointError} carries. */
export interface TokenEndpointErrorInit {
  /** HTTP status of the response. */
  readonly status: number;
  /** RFC 6749 §5.2 `error`, when the body was an OAuth error response. */
  readonly error?: string;
  /** RFC 6749 §5.2 `error_description`, when present. */
  readonly errorDescription?: string;
  /** RFC 6749 §5.2 `error_uri`, when present. */
  readonly errorUri?: string;
  /** Delay the server asked for with `Retry-After` (RFC 9110 §10.2.3), in ms. */
  readonly retryAfterMs?: number;
  /** How many requests were made, retries included. */
  readonly attempts: number;
}

/**
 * The token endpoint refused the request: the server's RFC 6749 §5.2 `error` and
 * `error_description` with the HTTP status. `invalid_client` (401) and every other 4xx but 429
 * are never retried; 429 and 5xx are retried within the retry policy before this is thrown.
 *
 * @example
 * ```ts
 * try {
 *   await tokenClient.getToken();
 * } catch (e) {
 *   if (e instanceof TokenEndpointError && e.error === 'invalid_client') rotateCredentials();
 * }
 * ```
 */
export class TokenEndpointError extends OutgoingAuthError {
  readonly status: number;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly errorUri?: string;
  readonly retryAfterMs?: number;
  readonly attempts: number;

  constructor(init: TokenEndpointErrorInit) {
    const what = init.error
      ? `${init.error}${init.errorDescription ? `: ${init.errorDescription}` : ''}`
      : 'an unexpected response';
    super('token_endpoint_error', `the token endpoint answered ${init.status} with ${what}`);
    this.status = init.status;
    this.error = init.error;
    this.errorDescription = init.errorDescription;
    this.errorUri = init.errorUri;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts;
  }

  /** Whether the status is one the retry policy retries (429, 5xx). */
  get transient(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** The token endpoint could not be reached: every attempt failed with a network error or timed out. */
export class TokenRequestError extends OutgoingAuthError {
  /** `timeout` when the last attempt timed out, `network` otherwise. */
  readonly kind: 'network' | 'timeout';
  /** How many requests were made, retries included. */
  readonly attempts: number;

  constructor(kind: 'network' | 'timeout', attempts: number, options?: { cause?: unknown }) {
    super(
      'token_request_failed',
      kind === 'timeout'
        ? `the token request timed out (${attempts} attempt${attempts === 1 ? '' : 's'})`
        : `the token endpoint could not be reached (${attempts} attempt${attempts === 1 ? '' : 's'})`,
      options,
    );
    this.kind = kind;
    this.attempts = attempts;
  }
}

/** A 2xx token response that is not a usable RFC 6749 §5.1 response. */
export class TokenResponseError extends OutgoingAuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('token_response_invalid', message, options);
  }
}
