import { compactVerify, decodeProtectedHeader, type JWK } from 'jose';
import { PRIVATE_KEY_JWT_ALGORITHMS, jwkFitsAlgorithm } from '../assertion/algorithms.js';
import { importVerificationKey } from '../crypto/key-import.js';
import { DependencyUnavailableError, OAuthError, type OAuthErrorCode } from '../errors.js';
import { JwksFetchError } from '../jwks/jwks-errors.js';
import type { RemoteKeySetProvider } from '../jwks/remote-key-set.interface.js';
import { replayKey } from '../replay/replay-key.js';
import type { ReplayStore } from '../replay/replay-store.interface.js';

import { JWT_BEARER_GRANT_TYPE } from '../options.js';

export { JWT_BEARER_GRANT_TYPE } from '../options.js';

/** An issuer whose JWTs are accepted as authorization grants (RFC 7523 §3). */
export interface TrustedIssuer {
  /** The `iss` value, compared exactly (RFC 7523 §3 item 1). */
  readonly issuer: string;
  /** Its public keys, given statically. Exclusive with `jwksUri`. */
  readonly jwks?: { readonly keys: readonly JWK[] };
  /** Where its keys are published (fetched under the S6 rules). Exclusive with `jwks`. */
  readonly jwksUri?: string;
  /** Subjects it may assert; absent: any. */
  readonly subjects?: readonly string[];
  /** Signature algorithms accepted from it. Default: every asymmetric JWS algorithm. */
  readonly algorithms?: readonly string[];
  /** Lifetime cap of its assertions, in seconds. Default: the verifier's. */
  readonly maxLifetimeSeconds?: number;
}

/** Why a JWT bearer grant was refused (stable; for logs and metrics). */
export type JwtBearerGrantReason =
  | 'assertion_missing'
  | 'assertion_malformed'
  | 'issuer_untrusted'
  | 'alg_not_allowed'
  | 'kid_unknown'
  | 'signature_invalid'
  | 'keys_unavailable'
  | 'sub_missing'
  | 'sub_not_allowed'
  | 'aud_mismatch'
  | 'exp_missing'
  | 'assertion_expired'
  | 'nbf_in_future'
  | 'iat_in_future'
  | 'lifetime_too_long'
  | 'jti_missing'
  | 'jti_replayed';

/** A refused JWT bearer grant: `invalid_grant` (RFC 7521 §4.1.1) with a stable reason. */
export class JwtBearerGrantError extends OAuthError {
  constructor(
    readonly reason: JwtBearerGrantReason,
    description: string,
    error: OAuthErrorCode = 'invalid_grant',
  ) {
    super(error, description);
  }
}

/** Settings of {@link verifyJwtBearerGrant}. */
export interface JwtBearerGrantContext {
  readonly trustedIssuers: readonly TrustedIssuer[];
  /** This server's issuer identifier: an accepted `aud`. */
  readonly issuer: string;
  /** The token endpoint URL: also an accepted `aud` (RFC 7523 §3 item 3). */
  readonly tokenEndpoint: string;
  readonly replayStore: ReplayStore;
  /** Fetches `jwksUri` key sets (the JWKS cache). */
  readonly keySets?: RemoteKeySetProvider;
  /** Clock leeway in seconds. Default 30. */
  readonly leewaySeconds?: number;
  /** Lifetime cap in seconds (`exp` − now, and `exp` − `iat`). Default 300. */
  readonly maxLifetimeSeconds?: number;
  /** Size cap of the assertion. Default 8192. */
  readonly maxBytes?: number;
  readonly now?: Date;
}

/** An accepted grant: who the assertion is about and who issued it. */
export interface VerifiedJwtBearerGrant {
  readonly issuer: string;
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Verifies a JWT used as an authorization grant (RFC 7523 §2.1, §3): the issuer is configured
 * as trusted (exact match), the signature verifies with one of its keys (never keys from the
 * header), `sub` is present (and allowed), `aud` names this server (issuer or token endpoint),
 * `exp` is present and not passed, `nbf`/`iat` are not in the future, the lifetime is capped,
 * and the `jti` is used once — consumed last, so a refused grant never burns it.
 *
 * @example
 * ```ts
 * const grant = await verifyJwtBearerGrant(body.assertion, {
 *   trustedIssuers: [{ issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' }],
 *   issuer, tokenEndpoint, replayStore, keySets: jwksCache,
 * });
 * ```
 */
export async function verifyJwtBearerGrant(
  assertion: unknown,
  context: JwtBearerGrantContext,
): Promise<VerifiedJwtBearerGrant> {
  if (typeof assertion !== 'string' || assertion.length === 0) {
    throw new JwtBearerGrantError('assertion_missing', 'assertion is required', 'invalid_request');
  }
  if (assertion.length > (context.maxBytes ?? 8192)) {
    throw new JwtBearerGrantError('assertion_malformed', 'assertion is too large');
  }
  const now = Math.floor((context.now ?? new Date()).getTime() / 1000);
  const leeway = context.leewaySeconds ?? 30;

  const parts = assertion.split('.');
  if (
    parts.length !== 3 ||
    !parts.every((part) => /^[A-Za-z0-9_-]*$/.test(part)) ||
    parts[0] === '' ||
    parts[1] === ''
  ) {
    throw new JwtBearerGrantError('assertion_malformed', 'assertion is not a compact JWS');
  }
  // Canonical base64url only (RFC 4648 §3.5): no second spelling of one signed assertion.
  if (Buffer.from(parts[2]!, 'base64url').toString('base64url') !== parts[2]) {
    throw new JwtBearerGrantError('assertion_malformed', 'assertion signature is not canonical');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    throw new JwtBearerGrantError('assertion_malformed', 'assertion is not a valid JWT');
  }
  if (typeof unverified !== 'object' || unverified === null || Array.isArray(unverified)) {
    throw new JwtBearerGrantError('assertion_malformed', 'assertion claims are not an object');
  }

  // RFC 7523 §3 item 1: iss identifies a trusted issuer, compared exactly.
  const trusted = context.trustedIssuers.find((entry) => entry.issuer === unverified.iss);
  if (!trusted) throw new JwtBearerGrantError('issuer_untrusted', 'the issuer is not trusted');

  const alg = header.alg;
  const algorithms = trusted.algorithms ?? PRIVATE_KEY_JWT_ALGORITHMS;
  if (typeof alg !== 'string' || !algorithms.includes(alg)) {
    throw new JwtBearerGrantError('alg_not_allowed', 'the signing algorithm is not accepted');
  }
  for (const member of ['jwk', 'jku', 'x5u', 'x5c', 'crit'] as const) {
    if (member in header) {
      throw new JwtBearerGrantError(
        'assertion_malformed',
        `the "${member}" header is not accepted`,
      );
    }
  }

  const payload = await verifySignature(assertion, trusted, alg, header.kid, context);

  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0) {
    throw new JwtBearerGrantError('sub_missing', 'sub is required (RFC 7523 §3)');
  }
  if (trusted.subjects && !trusted.subjects.includes(sub)) {
    throw new JwtBearerGrantError('sub_not_allowed', 'the subject is not allowed for this issuer');
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.some((aud) => aud === context.issuer || aud === context.tokenEndpoint)) {
    throw new JwtBearerGrantError(
      'aud_mismatch',
      'aud must name this authorization server (RFC 7523 §3)',
    );
  }
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new JwtBearerGrantError('exp_missing', 'exp is required (RFC 7523 §3)');
  }
  if (exp <= now - leeway)
    throw new JwtBearerGrantError('assertion_expired', 'the assertion has expired');
  if (typeof payload.nbf === 'number' && payload.nbf > now + leeway) {
    throw new JwtBearerGrantError('nbf_in_future', 'the assertion is not valid yet');
  }
  if (
    payload.iat !== undefined &&
    (typeof payload.iat !== 'number' || payload.iat > now + leeway)
  ) {
    throw new JwtBearerGrantError('iat_in_future', 'iat is in the future');
  }
  const cap = trusted.maxLifetimeSeconds ?? context.maxLifetimeSeconds ?? 300;
  if (exp - now > cap + leeway || (typeof payload.iat === 'number' && exp - payload.iat > cap)) {
    throw new JwtBearerGrantError('lifetime_too_long', `the assertion lives longer than ${cap} s`);
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) {
    throw new JwtBearerGrantError('jti_missing', 'jti is required so the assertion is single-use');
  }
  const first = await context.replayStore.consume(
    replayKey(JWT_BEARER_GRANT_TYPE, trusted.issuer, jti),
    new Date((exp + leeway) * 1000),
  );
  if (!first) throw new JwtBearerGrantError('jti_replayed', 'the assertion was already used');
  return { issuer: trusted.issuer, subject: sub, claims: payload };
}

async function verifySignature(
  assertion: string,
  trusted: TrustedIssuer,
  alg: string,
  kid: string | undefined,
  context: JwtBearerGrantContext,
): Promise<Record<string, unknown>> {
  const attempt = async (keys: readonly JWK[]): Promise<Record<string, unknown> | 'no_key'> => {
    const candidates = keys.filter(
      (key) => (kid === undefined || key.kid === kid) && jwkFitsAlgorithm(key, alg),
    );
    if (candidates.length === 0) return 'no_key';
    for (const jwk of candidates.slice(0, 5)) {
      try {
        const key = await importVerificationKey(jwk, alg);
        const { payload } = await compactVerify(assertion, key, { algorithms: [alg] });
        return JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      } catch {
        // Next candidate.
      }
    }
    throw new JwtBearerGrantError('signature_invalid', 'the assertion signature is invalid');
  };

  if (trusted.jwks) {
    const result = await attempt(trusted.jwks.keys);
    if (result === 'no_key')
      throw new JwtBearerGrantError('kid_unknown', 'no key of the issuer fits');
    return result;
  }
  if (!trusted.jwksUri || !context.keySets) {
    throw new JwtBearerGrantError('keys_unavailable', 'the issuer has no keys configured');
  }
  const load = async (refresh: boolean) => {
    try {
      return refresh
        ? await context.keySets!.refresh(trusted.jwksUri!)
        : await context.keySets!.get(trusted.jwksUri!);
    } catch (error) {
      if (error instanceof DependencyUnavailableError) throw error;
      if (error instanceof JwksFetchError) {
        throw new JwtBearerGrantError(
          'keys_unavailable',
          `the issuer's keys are unavailable: ${error.message}`,
        );
      }
      throw error;
    }
  };
  const cached = await load(false);
  const first = cached ? await attempt(cached.keys) : 'no_key';
  if (first !== 'no_key') return first;
  // S6: an unknown kid triggers one refetch (cooldown-limited), then one retry.
  const fresh = await load(true);
  if (fresh) {
    const second = await attempt(fresh.keys);
    if (second !== 'no_key') return second;
  }
  throw new JwtBearerGrantError('kid_unknown', 'no key of the issuer fits');
}
