import { AccessTokenError } from './access-token-error.js';

/** The parts of an HTTP request that can carry a bearer token (RFC 6750 §2). */
export interface BearerTokenRequest {
  /** The `Authorization` header (an array if a framework kept duplicates). */
  readonly authorization?: string | readonly string[];
  /** The request target (path and query), to detect an RFC 6750 §2.3 `access_token` query parameter. */
  readonly url?: string;
  /**
   * The parsed body when it is `application/x-www-form-urlencoded`, to detect an RFC 6750 §2.2
   * `access_token` form parameter. Leave undefined for other media types.
   */
  readonly formBody?: unknown;
}

/** Options of {@link extractBearerToken}. */
export interface ExtractBearerTokenOptions {
  /** Longest token accepted, in bytes (checked before any parsing). Default 16384. */
  readonly maxTokenBytes?: number;
}

/** Default cap on the size of an access token, in bytes. */
export const DEFAULT_MAX_ACCESS_TOKEN_BYTES = 16 * 1024;

/** RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const SCHEME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: |$)/;

function hasQueryToken(url: string | undefined): boolean {
  if (url === undefined) return false;
  const query = url.indexOf('?');
  if (query < 0) return false;
  const fragment = url.indexOf('#', query);
  const search = url.slice(query + 1, fragment < 0 ? undefined : fragment);
  return new URLSearchParams(search).has('access_token');
}

function hasFormToken(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    Object.prototype.hasOwnProperty.call(body, 'access_token')
  );
}

/**
 * The bearer token of a request, accepted only from the `Authorization` header (RFC 6750 §2.1):
 * - no `Authorization` header, or another scheme (`Basic`…) → `token_missing` (answered with a
 *   bare challenge, RFC 6750 §3.1);
 * - an `access_token` in the query string (§2.3) or form body (§2.2), alone or besides the
 *   header → `token_not_in_header` (`invalid_request`: one method only, and not these);
 * - `Bearer` without exactly one `b64token`, or the header sent twice → `authorization_malformed`
 *   (`invalid_request`);
 * - a token longer than `maxTokenBytes` → `token_too_large` (`invalid_token`).
 *
 * @example
 * ```ts
 * const token = extractBearerToken({ authorization: req.headers.authorization, url: req.url });
 * ```
 */
export function extractBearerToken(
  request: BearerTokenRequest,
  options: ExtractBearerTokenOptions = {},
): string {
  const maxBytes = options.maxTokenBytes ?? DEFAULT_MAX_ACCESS_TOKEN_BYTES;
  if (hasQueryToken(request.url)) {
    throw new AccessTokenError({
      reason: 'token_not_in_header',
      detail: 'an access_token query parameter was sent (RFC 6750 §2.3 is not accepted)',
      claim: 'access_token',
    });
  }
  if (hasFormToken(request.formBody)) {
    throw new AccessTokenError({
      reason: 'token_not_in_header',
      detail: 'an access_token form parameter was sent (RFC 6750 §2.2 is not accepted)',
      claim: 'access_token',
    });
  }
  let header = request.authorization;
  if (Array.isArray(header)) {
    if (header.length > 1) {
      throw new AccessTokenError({
        reason: 'authorization_malformed',
        detail: 'the Authorization header was sent more than once',
      });
    }
    header = header[0];
  }
  if (typeof header !== 'string' || header.trim() === '') {
    throw new AccessTokenError({ reason: 'token_missing', detail: 'no Authorization header' });
  }
  const value = header.trim();
  const scheme = SCHEME.exec(value)?.[1];
  if (scheme === undefined || scheme.toLowerCase() !== 'bearer') {
    // RFC 6750 §3.1: an unsupported authentication method counts as no authentication.
    throw new AccessTokenError({
      reason: 'token_missing',
      detail: 'the Authorization scheme is not Bearer',
    });
  }
  // Checked before the syntax, so a huge header is never run through a regular expression.
  if (value.length > maxBytes + 16) {
    throw new AccessTokenError({
      reason: 'token_too_large',
      detail: `the access token exceeds ${maxBytes} bytes`,
    });
  }
  const token = BEARER.exec(value)?.[1];
  if (token === undefined) {
    throw new AccessTokenError({
      reason: 'authorization_malformed',
      detail: 'Authorization: Bearer is not followed by exactly one b64token',
    });
  }
  if (token.length > maxBytes) {
    throw new AccessTokenError({
      reason: 'token_too_large',
      detail: `the access token exceeds ${maxBytes} bytes`,
    });
  }
  return token;
}

/** What a {@link bearerChallenge} carries besides the realm. */
export interface BearerChallengeError {
  /** `invalid_request`, `invalid_token` or `insufficient_scope` (RFC 6750 §3.1). */
  readonly error: string;
  readonly description?: string;
  /** For `insufficient_scope`: the scopes needed (RFC 6750 §3). */
  readonly requiredScopes?: readonly string[];
  /** False for a request without a token: the challenge then carries the realm only (§3.1). */
  readonly hasErrorInformation?: boolean;
}

/**
 * Keeps the characters RFC 6750 §3 allows in `realm`, `error_description` and `scope` values
 * (%x20-21 / %x23-5B / %x5D-7E): no quote, backslash or control character can break the header.
 */
function quotable(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/**
 * The `WWW-Authenticate` value of RFC 6750 §3:
 * - no error (or `hasErrorInformation: false`): `Bearer realm="api"` (§3.1: a request without a
 *   token gets no error code);
 * - otherwise `Bearer realm="api", error="invalid_token", error_description="…"`, plus
 *   `scope="a b"` for `insufficient_scope`.
 *
 * @example
 * ```ts
 * res.setHeader('WWW-Authenticate', bearerChallenge('api', error));
 * ```
 */
export function bearerChallenge(realm: string | undefined, error?: BearerChallengeError): string {
  const params: string[] = [];
  if (realm !== undefined) params.push(`realm="${quotable(realm)}"`);
  if (error && error.hasErrorInformation !== false) {
    params.push(`error="${quotable(error.error)}"`);
    if (error.description) params.push(`error_description="${quotable(error.description)}"`);
    if (error.requiredScopes && error.requiredScopes.length > 0) {
      params.push(`scope="${quotable(error.requiredScopes.join(' '))}"`);
    }
  }
  return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
}
