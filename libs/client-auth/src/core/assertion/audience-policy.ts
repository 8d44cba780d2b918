import { ClientAuthError, type ClientAuthReason } from '../errors.js';
import type { AudienceForm, AudiencePolicy } from '../types.js';

/** What {@link checkAudience} compares `aud` with. */
export interface AudienceContext {
  /** The authorization server's issuer identifier (RFC 8414 §2). */
  readonly issuer: string;
  /** The token endpoint URL (accepted under `compat`). */
  readonly tokenEndpoint: string;
  /** The URL of the endpoint being called (accepted under `compat`), when known. */
  readonly endpointUrl?: string;
  /** The effective policy (per-client override already applied). */
  readonly policy: AudiencePolicy;
  /** `aud` must be a string; a one-member array is refused (FAPI profiles; SPEC S2.8). */
  readonly requireString: boolean;
  /** The assertion is typed `client-authentication+jwt`: always checked strictly (SPEC S2.8). */
  readonly strictTyped: boolean;
}

/** `typ` values of draft-ietf-oauth-rfc7523bis (case-insensitive, optional `application/`). */
const CLIENT_AUTHENTICATION_TYP = /^(?:application\/)?client-authentication\+jwt$/i;

/**
 * Whether a JOSE `typ` header declares an explicitly typed client assertion
 * (`client-authentication+jwt`, draft-ietf-oauth-rfc7523bis; media types compare
 * case-insensitively and may omit `application/`, RFC 7515 §4.1.9).
 */
export function isClientAuthenticationTyp(typ: unknown): boolean {
  return typeof typ === 'string' && CLIENT_AUTHENTICATION_TYP.test(typ);
}

function fail(reason: ClientAuthReason, detail: string): ClientAuthError {
  // Audience is checked after the signature, so the detail may be shown (SPEC S2.9).
  return new ClientAuthError({ reason, detail, exposeDetail: true, claim: 'aud' });
}

/**
 * Checks the `aud` claim of a verified client assertion against the audience policy of SPEC S2.8
 * and returns the form it used (recorded per client to show readiness for `strict`).
 *
 * - `strict` (draft-ietf-oauth-rfc7523bis §4, and always for `typ: client-authentication+jwt`):
 *   `aud` is the issuer identifier as its sole value — a string, or a one-member array unless
 *   `requireString`; the token endpoint URL and any other value → `aud_not_issuer`.
 * - `compat` (RFC 7523 §3 item 3): also the token endpoint URL or the URL of the endpoint being
 *   called, and arrays containing one of the accepted values; otherwise `aud_not_accepted`.
 * - `requireString` refuses any array under either policy (`aud_not_string`).
 * - absent or empty → `aud_missing` (RFC 7523 §3 item 3: the JWT MUST contain an `aud`);
 *   neither string nor array of strings → `claims_malformed`.
 *
 * Values are compared exactly, as RFC 7519 §4.1.3 and RFC 3986 §6.2.1 simple string comparison
 * demand: no trailing-slash, case or port normalisation, so `https://as.example/` does not match
 * an issuer `https://as.example`.
 */
export function checkAudience(aud: unknown, ctx: AudienceContext): AudienceForm {
  if (aud === undefined || aud === null || aud === '' || (Array.isArray(aud) && aud.length === 0)) {
    throw fail('aud_missing', 'the assertion has no aud claim');
  }
  const isArray = Array.isArray(aud);
  if (!(typeof aud === 'string' || (isArray && aud.every((v) => typeof v === 'string')))) {
    throw new ClientAuthError({
      reason: 'claims_malformed',
      detail: 'aud must be a string or an array of strings',
      exposeDetail: true,
      claim: 'aud',
    });
  }
  const values: readonly string[] = isArray ? (aud as string[]) : [aud as string];
  if (isArray && ctx.requireString) {
    throw fail('aud_not_string', 'aud must be a single string, not an array');
  }

  const strict = ctx.policy === 'strict' || ctx.strictTyped;
  if (values.length === 1 && values[0] === ctx.issuer) {
    return isArray ? 'issuer_array' : 'issuer';
  }
  if (strict) {
    const why = ctx.strictTyped
      ? 'a client-authentication+jwt assertion'
      : 'the strict audience policy';
    throw fail(
      'aud_not_issuer',
      values.includes(ctx.issuer)
        ? `aud must hold the issuer identifier as its only value (${why})`
        : values.includes(ctx.tokenEndpoint)
          ? `aud must be the issuer identifier, not the token endpoint URL (${why})`
          : `aud must be the issuer identifier (${why})`,
    );
  }
  if (values.includes(ctx.issuer)) return 'issuer_among_others';
  if (values.includes(ctx.tokenEndpoint)) return 'token_endpoint';
  if (ctx.endpointUrl !== undefined && values.includes(ctx.endpointUrl)) return 'endpoint_url';
  throw fail(
    'aud_not_accepted',
    'aud must be the issuer identifier, the token endpoint URL or the URL of this endpoint',
  );
}
