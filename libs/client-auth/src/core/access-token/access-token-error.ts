import { OAuthError, type OAuthErrorCode } from '../errors.js';

/**
 * Stable reason codes for every way a request to a protected resource can be refused (SPEC S8).
 * They appear in logs and metrics, never change meaning, and are safe to alert on.
 */
export type AccessTokenReason =
  // RFC 6750 §2: how the token is presented
  /** No bearer token at all (no `Authorization`, or another scheme): RFC 6750 §3.1, no error code. */
  | 'token_missing'
  /** `Authorization: Bearer` present but not `Bearer <b64token>` (RFC 6750 §2.1). */
  | 'authorization_malformed'
  /** A token in the query string or form body (RFC 6750 §2.2, §2.3), which is not accepted. */
  | 'token_not_in_header'
  // structure
  /** Longer than the size cap, checked before any parsing. */
  | 'token_too_large'
  /** Not a compact JWS with a JSON header and payload (RFC 7515 §7.1, RFC 7519 §7.2). */
  | 'token_malformed'
  // RFC 9068 §4: header
  /** `typ` is not `at+jwt` / `application/at+jwt`. */
  | 'typ_invalid'
  /** `alg` is not in the allow-list (never `none`, never HMAC). */
  | 'alg_not_allowed'
  /** A `crit` header parameter (RFC 7515 §4.1.11): no extension is understood. */
  | 'crit_unsupported'
  // keys and signature
  /** No key of the issuer has the header `kid`, even after one refetch. */
  | 'kid_unknown'
  /** No key of the issuer fits the algorithm. */
  | 'no_usable_key'
  /** The signature does not verify with the issuer's keys. */
  | 'signature_invalid'
  // claims (RFC 9068 §4, RFC 7519 §4.1)
  /** A registered claim has the wrong type. */
  | 'claims_malformed'
  /** `iss` is not exactly the configured issuer. */
  | 'iss_mismatch'
  /** The token names no audience. */
  | 'aud_missing'
  /** None of the token's audiences is one this resource server accepts. */
  | 'aud_mismatch'
  /** The token has no `exp`. */
  | 'exp_missing'
  /** `exp` has passed (with leeway). */
  | 'token_expired'
  /** `nbf` is in the future (with leeway). */
  | 'nbf_in_future'
  /** `iat` is in the future (with leeway). */
  | 'iat_in_future'
  // RFC 7662
  /** The introspection endpoint answered `"active": false`. */
  | 'token_inactive'
  // RFC 6750 §3.1
  /** The token is valid but lacks a scope the resource requires. */
  | 'scope_insufficient';

/**
 * The public `error_description` of each reason: fixed text, so a description never echoes the
 * token or anything taken from it. Characters are within RFC 6750 §3's `error_description` set.
 */
export const ACCESS_TOKEN_DESCRIPTIONS: Readonly<Record<AccessTokenReason, string>> = Object.freeze(
  {
    token_missing: 'a bearer access token is required',
    authorization_malformed: 'the Authorization header must be Bearer followed by one token',
    token_not_in_header: 'access tokens are accepted in the Authorization header only',
    token_too_large: 'the access token is too large',
    token_malformed: 'the access token is malformed',
    typ_invalid: 'the token is not a JWT access token (typ must be at+jwt)',
    alg_not_allowed: 'the access token signing algorithm is not accepted',
    crit_unsupported: 'the access token has an unsupported critical header',
    kid_unknown: 'the access token was signed with an unknown key',
    no_usable_key: 'no key of the issuer can verify the access token',
    signature_invalid: 'the access token signature is invalid',
    claims_malformed: 'the access token claims are malformed',
    iss_mismatch: 'the access token was not issued by the expected issuer',
    aud_missing: 'the access token has no audience',
    aud_mismatch: 'the access token is not intended for this resource',
    exp_missing: 'the access token has no expiry',
    token_expired: 'the access token expired',
    nbf_in_future: 'the access token is not valid yet',
    iat_in_future: 'the access token was issued in the future',
    token_inactive: 'the access token is not active',
    scope_insufficient: 'the access token lacks a required scope',
  },
);

/** The RFC 6750 §3.1 error code of a reason: `invalid_request`, `insufficient_scope` or `invalid_token`. */
export function accessTokenErrorCode(reason: AccessTokenReason): OAuthErrorCode {
  switch (reason) {
    case 'authorization_malformed':
    case 'token_not_in_header':
      return 'invalid_request';
    case 'scope_insufficient':
      return 'insufficient_scope';
    default:
      return 'invalid_token';
  }
}

/** Options of {@link AccessTokenError}. */
export interface AccessTokenErrorInit {
  /** The stable reason code. */
  readonly reason: AccessTokenReason;
  /** What failed, for operators (logs). Never the token. Default: the public description. */
  readonly detail?: string;
  /** The claim or header parameter that failed, when one did. */
  readonly claim?: string;
  /** For `scope_insufficient`: the scopes the resource requires (the challenge's `scope`). */
  readonly requiredScopes?: readonly string[];
  readonly cause?: unknown;
}

/**
 * A refused access token (SPEC S8). `error` is the RFC 6750 §3.1 code — `invalid_token` (401),
 * `insufficient_scope` (403) or `invalid_request` (400) — `reason` the stable code, `description`
 * the fixed public text and `detail` what operators see. `token_missing` is answered with a bare
 * challenge, without error information (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * try {
 *   await verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof AccessTokenError) metrics.inc({ reason: error.reason });
 *   throw error;
 * }
 * ```
 */
export class AccessTokenError extends OAuthError {
  /** The stable reason code. */
  readonly reason: AccessTokenReason;
  /** Operator detail (logs); never contains the token. */
  readonly detail: string;
  /** The claim or header parameter that failed. */
  readonly claim?: string;
  /** The scopes the resource requires, for `insufficient_scope`. */
  readonly requiredScopes?: readonly string[];

  constructor(init: AccessTokenErrorInit) {
    const description = ACCESS_TOKEN_DESCRIPTIONS[init.reason];
    super(accessTokenErrorCode(init.reason), description, { cause: init.cause });
    this.reason = init.reason;
    this.detail = init.detail ?? description;
    if (init.claim !== undefined) this.claim = init.claim;
    if (init.requiredScopes !== undefined) {
      this.requiredScopes = Object.freeze([...init.requiredScopes]);
    }
  }

  /**
   * Whether the answer carries error information. False when the request had no token at all:
   * RFC 6750 §3.1 says the challenge then SHOULD NOT include an error code.
   */
  get hasErrorInformation(): boolean {
    return this.reason !== 'token_missing';
  }
}
