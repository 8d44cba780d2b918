/**
 * The error model of the library (SPEC S2.9).
 *
 * Core code throws {@link ClientAuthError}: a stable machine-readable `reason` from a closed
 * union, the RFC 6749 §5.2 `error` it maps to, and a public `error_description`. HTTP status is
 * derived from the OAuth error code so that core stays transport-free.
 */

/** OAuth error codes this library can answer with (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 6750 §3.1). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  /** RFC 8707 §2: a `resource` parameter is refused. */
  | 'invalid_target'
  /** RFC 7009 §2.2.1: the server cannot revoke this type of token. */
  | 'unsupported_token_type'
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'invalid_token'
  | 'insufficient_scope'
  /** Management APIs only (admin REST): the client or credential does not exist. */
  | 'not_found'
  /** Management APIs only (admin REST): the request conflicts with the stored state. */
  | 'conflict'
  | 'temporarily_unavailable';

/**
 * Stable reason codes for every way client authentication can fail. They appear in logs,
 * metrics and the per-client failure record, never change meaning, and are safe to alert on.
 */
export type ClientAuthReason =
  // S2.1 request shape
  | 'multiple_methods'
  | 'duplicate_parameter'
  | 'parameter_not_string'
  | 'assertion_type_unsupported'
  | 'assertion_type_without_assertion'
  | 'assertion_without_type'
  | 'credentials_missing'
  | 'client_id_missing'
  | 'basic_malformed'
  | 'method_not_allowed_here'
  // S2.2 size and shape
  | 'assertion_too_large'
  | 'assertion_malformed'
  // S2.3 client
  | 'client_id_mismatch'
  | 'client_unknown'
  | 'client_disabled'
  | 'method_not_registered'
  // S2.4 algorithms and header
  | 'alg_not_allowed'
  | 'alg_not_registered'
  | 'header_key_forbidden'
  | 'crit_unsupported'
  // S2.5 keys and signature
  | 'kid_unknown'
  | 'no_usable_key'
  | 'signature_invalid'
  | 'jwks_unavailable'
  | 'secret_invalid'
  // S2.6 claims
  | 'claims_malformed'
  | 'iss_mismatch'
  | 'sub_mismatch'
  | 'aud_missing'
  | 'aud_not_issuer'
  | 'aud_not_accepted'
  | 'aud_not_string'
  | 'exp_missing'
  | 'assertion_expired'
  | 'nbf_in_future'
  | 'iat_in_future'
  | 'exp_too_far'
  | 'lifetime_too_long'
  | 'typ_invalid'
  // S2.7 replay
  | 'jti_missing'
  | 'jti_replayed'
  // S9 federated credentials
  | 'federated_issuer_unknown'
  | 'federated_issuer_near_miss'
  | 'federated_keys_unavailable'
  | 'federated_subject_mismatch'
  | 'federated_audience_mismatch'
  | 'federated_claim_mismatch'
  | 'federated_client_mismatch'
  | 'federated_ambiguous'
  // dependencies
  | 'store_unavailable';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  invalid_client_metadata: 400,
  invalid_redirect_uri: 400,
  invalid_software_statement: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  not_found: 404,
  conflict: 409,
  temporarily_unavailable: 503,
};

/** HTTP status for an OAuth error code (RFC 6749 §5.2; 401 for `invalid_client`). */
export function httpStatusFor(error: OAuthErrorCode): number {
  return STATUS[error];
}

/** The public description used for `invalid_client` before the signature is verified. */
export const GENERIC_CLIENT_AUTH_DESCRIPTION = 'client authentication failed';

/** Base class of every OAuth-format error raised by the library. */
export class OAuthError extends Error {
  /** The RFC 6749 §5.2 `error` value. */
  readonly error: OAuthErrorCode;
  /** The public `error_description`. Never contains a secret, key or assertion. */
  readonly description: string;

  constructor(error: OAuthErrorCode, description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = new.target.name;
    this.error = error;
    this.description = description;
  }

  /** HTTP status the error maps to. */
  get status(): number {
    return httpStatusFor(this.error);
  }
}

/** Options of {@link ClientAuthError}. */
export interface ClientAuthErrorInit {
  /** The stable reason code. */
  reason: ClientAuthReason;
  /** `invalid_client` unless said otherwise. */
  error?: OAuthErrorCode;
  /** What failed, for operators (logs, failure record). May name the rule and the claim. */
  detail: string;
  /**
   * Whether `detail` may be shown to the caller. False before the signature is verified, so a
   * caller cannot probe which clients exist (SPEC S2.9).
   */
  exposeDetail?: boolean;
  /** The claim or parameter that failed, when one did. */
  claim?: string;
  /** The client the request named, when known (for the failure record; never trusted). */
  clientId?: string;
  /**
   * What the caller sees when it must differ from `detail` (which may name other clients'
   * registrations for the operator). Overrides `exposeDetail`.
   */
  publicDetail?: string;
  cause?: unknown;
}

/**
 * A client authentication failure. `reason` is stable; `description` is what the caller sees;
 * `detail` is what operators see.
 *
 * @example
 * ```ts
 * throw new ClientAuthError({ reason: 'jti_replayed', detail: 'jti was already used', exposeDetail: true });
 * ```
 */
export class ClientAuthError extends OAuthError {
  readonly reason: ClientAuthReason;
  readonly detail: string;
  readonly claim?: string;
  readonly clientId?: string;

  constructor(init: ClientAuthErrorInit) {
    const error = init.error ?? 'invalid_client';
    const expose = init.exposeDetail ?? error !== 'invalid_client';
    super(error, init.publicDetail ?? (expose ? init.detail : GENERIC_CLIENT_AUTH_DESCRIPTION), {
      cause: init.cause,
    });
    this.reason = init.reason;
    this.detail = init.detail;
    this.claim = init.claim;
    this.clientId = init.clientId;
  }
}

/** A dependency (database, cache, key source) is down: answered as 503 `temporarily_unavailable`. */
export class DependencyUnavailableError extends OAuthError {
  /** Which dependency failed, for logs. */
  readonly dependency: string;
  constructor(dependency: string, options?: { cause?: unknown }) {
    super('temporarily_unavailable', 'the service is temporarily unavailable', options);
    this.dependency = dependency;
  }
}
