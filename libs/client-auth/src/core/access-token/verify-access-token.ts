import { compactVerify, type CryptoKey, type JWK } from 'jose';
import { PRIVATE_KEY_JWT_ALGORITHMS, jwkFitsAlgorithm } from '../assertion/algorithms.js';
import { importVerificationKey } from '../crypto/key-import.js';
import { DependencyUnavailableError, OAuthError } from '../errors.js';
import type { KeySetSnapshot } from '../jwks/remote-key-set.interface.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import { AccessTokenError, type AccessTokenReason } from './access-token-error.js';
import { DEFAULT_MAX_ACCESS_TOKEN_BYTES } from './bearer-token.js';
import type { AccessTokenKeySource } from './issuer-key-source.js';
import { parseScope, requireScopes } from './scopes.js';

/** Stateless decoders (no `stream`), shared: strict for header parsing, lenient as jose decodes. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8 = new TextDecoder();

/** What an access token must satisfy, whatever its format (SPEC S8). */
export interface AccessTokenValidation {
  /** The issuer identifier whose tokens are accepted; `iss` must be identical (RFC 9068 §4). */
  readonly issuer: string;
  /**
   * The audience(s) this resource server accepts: the token's `aud` must contain one of them
   * (RFC 9068 §4, RFC 7519 §4.1.3). Always checked; there is no way to turn it off.
   */
  readonly audience: string | readonly string[];
  /**
   * Signature algorithms accepted. Default: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA
   * (and its alias Ed25519). Asymmetric only: `none` and HMAC are refused at construction
   * (RFC 9068 §4: an access token is signed by the issuer, never with a shared secret).
   */
  readonly algorithms?: readonly string[];
  /** Clock leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  readonly clockLeewaySeconds?: number;
  /** Size cap of a token, in bytes, checked before parsing. Default 16384. */
  readonly maxTokenBytes?: number;
}

/** What {@link verifyAccessToken} needs besides the token. */
export interface VerifyAccessTokenContext extends AccessTokenValidation {
  /** The issuer's keys. */
  readonly keys: AccessTokenKeySource;
  /** Scopes the token must all carry (else `insufficient_scope`). Default none. */
  readonly requiredScopes?: readonly string[];
  /** The current time. Default `new Date()`. */
  readonly now?: Date;
}

/** An access token that passed verification. */
export interface VerifiedAccessToken {
  /** How it was verified: a JWT checked locally (RFC 9068) or an introspection answer (RFC 7662). */
  readonly source: 'jwt' | 'introspection';
  /** `iss` (the configured issuer when an introspection answer omits it). */
  readonly issuer: string;
  /** `sub`, when present. */
  readonly subject?: string;
  /** `client_id`: the client the token was issued to, when present. */
  readonly clientId?: string;
  /** Every `aud` value. */
  readonly audience: readonly string[];
  /** The scopes of the `scope` claim, parsed (RFC 9068 §2.2.3). */
  readonly scopes: readonly string[];
  /** `exp` (NumericDate, seconds), when present. Always present for a JWT. */
  readonly exp?: number;
  /** `jti`, when present. */
  readonly jti?: string;
  /** The JWS `alg` (JWT only). */
  readonly alg?: string;
  /** The `kid` of the header (JWT only). */
  readonly kid?: string;
  /** Every claim of the JWT payload, or every member of the introspection answer. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Settings after defaults, shared by the JWT and introspection paths. */
export interface ResolvedAccessTokenValidation {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockLeewaySeconds: number;
  readonly maxTokenBytes: number;
}

/** Default clock leeway, in seconds. */
export const DEFAULT_ACCESS_TOKEN_LEEWAY_SECONDS = 30;

/** RFC 9068 §4: `typ` is `at+jwt` or `application/at+jwt` (media types compare case-insensitively). */
const AT_JWT_TYP = /^(?:application\/)?at\+jwt$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Without a `kid`, at most this many fitting keys are tried: it bounds one request's work. */
const MAX_KEYS_WITHOUT_KID = 5;

/**
 * Applies the defaults of {@link AccessTokenValidation} and refuses a configuration that would
 * weaken verification: an empty issuer or audience, or a symmetric/`none` algorithm. Throws
 * `ClientAuthConfigurationError`, so a misconfigured resource server fails at start-up.
 */
export function resolveAccessTokenValidation(
  validation: AccessTokenValidation,
): ResolvedAccessTokenValidation {
  if (typeof validation.issuer !== 'string' || validation.issuer === '') {
    throw new ClientAuthConfigurationError('the resource server needs the issuer it trusts');
  }
  const audiences =
    typeof validation.audience === 'string' ? [validation.audience] : [...validation.audience];
  if (audiences.length === 0 || audiences.some((aud) => typeof aud !== 'string' || aud === '')) {
    throw new ClientAuthConfigurationError(
      'the resource server needs at least one audience: aud is always checked (SPEC S8)',
    );
  }
  const algorithms = validation.algorithms ?? PRIVATE_KEY_JWT_ALGORITHMS;
  const refused = algorithms.filter((alg) => !PRIVATE_KEY_JWT_ALGORITHMS.includes(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw new ClientAuthConfigurationError(
      `access token algorithms must be asymmetric JWS algorithms (${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')})` +
        (refused.length > 0 ? `; refused: ${refused.join(', ')}` : ''),
    );
  }
  const leeway = validation.clockLeewaySeconds ?? DEFAULT_ACCESS_TOKEN_LEEWAY_SECONDS;
  if (!Number.isFinite(leeway) || leeway < 0 || leeway > 600) {
    throw new ClientAuthConfigurationError('clockLeewaySeconds must be between 0 and 600');
  }
  const maxTokenBytes = validation.maxTokenBytes ?? DEFAULT_MAX_ACCESS_TOKEN_BYTES;
  if (!Number.isSafeInteger(maxTokenBytes) || maxTokenBytes < 256) {
    throw new ClientAuthConfigurationError('maxTokenBytes must be an integer of at least 256');
  }
  return Object.freeze({
    issuer: validation.issuer,
    audiences: Object.freeze(audiences),
    algorithms: Object.freeze([...algorithms]),
    clockLeewaySeconds: leeway,
    maxTokenBytes,
  });
}

function refuse(
  reason: AccessTokenReason,
  detail?: string,
  claim?: string,
  cause?: unknown,
): AccessTokenError {
  return new AccessTokenError({
    reason,
    ...(detail !== undefined && { detail }),
    ...(claim !== undefined && { claim }),
    ...(cause !== undefined && { cause }),
  });
}

/** An untrusted header value for a log detail: quoted, escaped and truncated. */
function printable(value: unknown): string {
  const quoted = JSON.stringify(String(value));
  return quoted.length > 66 ? `${quoted.slice(0, 64)}…"` : quoted;
}

function decodeJsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(STRICT_UTF8.decode(Buffer.from(part, 'base64url')));
  } catch {
    throw refuse('token_malformed', `the ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refuse('token_malformed', `the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Whether a token has the shape of a compact JWS (three base64url parts), nothing verified. */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && BASE64URL.test(parts[0]!) && BASE64URL.test(parts[1]!);
}

/**
 * Checks the claims of an access token against the resolved validation (RFC 9068 §4, RFC 7519
 * §4.1, RFC 7662 §2.2), in this order: types of the registered claims (`claims_malformed`);
 * `iss` identical to the issuer (`iss_mismatch`; an introspection answer may omit it); `aud`
 * present (`aud_missing`) and containing an accepted audience (`aud_mismatch`); `exp` present for
 * a JWT (`exp_missing`) and not passed (`token_expired`); `nbf` and `iat` not in the future
 * (`nbf_in_future`, `iat_in_future`), each with the clock leeway; `scope` a scope string.
 */
export function checkAccessTokenClaims(
  claims: Readonly<Record<string, unknown>>,
  validation: ResolvedAccessTokenValidation,
  now: Date,
  source: 'jwt' | 'introspection',
): Omit<VerifiedAccessToken, 'source' | 'alg' | 'kid' | 'claims'> {
  for (const name of ['iss', 'sub', 'client_id', 'jti'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') {
      throw refuse('claims_malformed', `${name} must be a string`, name);
    }
  }
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value = claims[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw refuse('claims_malformed', `${name} must be a NumericDate`, name);
    }
  }
  const aud = claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (
    audiences !== undefined &&
    (!Array.isArray(audiences) || audiences.some((value) => typeof value !== 'string'))
  ) {
    throw refuse('claims_malformed', 'aud must be a string or an array of strings', 'aud');
  }
  const scopes = parseScope(claims.scope);
  if (scopes === undefined) {
    throw refuse('claims_malformed', 'scope must be a space-separated string', 'scope');
  }

  // RFC 9068 §4: iss MUST exactly match the issuer identifier. RFC 7662 §2.2: iss is optional.
  if (claims.iss === undefined ? source === 'jwt' : claims.iss !== validation.issuer) {
    throw refuse(
      'iss_mismatch',
      claims.iss === undefined
        ? 'the token has no iss'
        : `iss ${printable(claims.iss)} is not ${printable(validation.issuer)}`,
      'iss',
    );
  }
  // RFC 9068 §4: the token MUST be refused when aud does not contain an accepted audience.
  if (audiences === undefined || audiences.length === 0) {
    throw refuse('aud_missing', 'the token has no aud', 'aud');
  }
  if (!(audiences as string[]).some((value) => validation.audiences.includes(value))) {
    throw refuse('aud_mismatch', 'no aud value is an accepted audience', 'aud');
  }

  const leeway = validation.clockLeewaySeconds;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const exp = claims.exp as number | undefined;
  const nbf = claims.nbf as number | undefined;
  const iat = claims.iat as number | undefined;
  // RFC 9068 §2.2: exp is REQUIRED in a JWT access token; RFC 7519 §4.1.4: refused on or after it.
  if (exp === undefined && source === 'jwt') {
    throw refuse('exp_missing', 'the token has no exp', 'exp');
  }
  if (exp !== undefined && nowSeconds >= exp + leeway) {
    throw refuse('token_expired', `the token expired at ${exp}`, 'exp');
  }
  // RFC 7519 §4.1.5: not accepted before nbf.
  if (nbf !== undefined && nbf > nowSeconds + leeway) {
    throw refuse('nbf_in_future', `nbf ${nbf} is in the future`, 'nbf');
  }
  if (iat !== undefined && iat > nowSeconds + leeway) {
    throw refuse('iat_in_future', `iat ${iat} is in the future`, 'iat');
  }

  return {
    issuer: (claims.iss as string | undefined) ?? validation.issuer,
    ...(claims.sub !== undefined && { subject: claims.sub as string }),
    ...(claims.client_id !== undefined && { clientId: claims.client_id as string }),
    audience: Object.freeze([...(audiences as string[])]),
    scopes,
    ...(exp !== undefined && { exp }),
    ...(claims.jti !== undefined && { jti: claims.jti as string }),
  };
}

interface Candidate {
  readonly jwk: JWK;
}

/**
 * Verifies an RFC 9068 JWT access token (SPEC S8), in this order:
 * 1. size cap before parsing (`token_too_large`); a compact JWS with a JSON header and payload
 *    (`token_malformed`);
 * 2. header: `typ` is `at+jwt` or `application/at+jwt`, case-insensitive (RFC 9068 §2.1, §4;
 *    `typ_invalid`, also when absent); `alg` in the allow-list, never `none` or HMAC (RFC 9068
 *    §4; `alg_not_allowed`); no `crit` (RFC 7515 §4.1.11; `crit_unsupported`); `jwk`, `jku`,
 *    `x5u` and `x5c` are ignored — keys come from the issuer's key source only;
 * 3. keys: by `kid` when present, else the keys fitting `alg` (at most 5); an unknown `kid`
 *    (`kid_unknown`), no fitting key (`no_usable_key`) or a failed signature
 *    (`signature_invalid`) first asks the key source for a fresher set — once, and the remote
 *    source allows one refetch per cooldown — then retries once;
 * 4. claims (see {@link checkAccessTokenClaims}), then `requiredScopes` (`insufficient_scope`).
 *
 * Refusals are {@link AccessTokenError}s; a key source that cannot answer is a
 * `DependencyUnavailableError` (503), not a refused token.
 *
 * @example
 * ```ts
 * const verified = await verifyAccessToken(token, {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   keys: new RemoteIssuerKeySource({ issuer: 'https://auth.example.com', keySets: new JwksCache() }),
 *   requiredScopes: ['reports:read'],
 * });
 * verified.clientId; // 'billing'
 * ```
 */
export async function verifyAccessToken(
  token: string,
  context: VerifyAccessTokenContext,
): Promise<VerifiedAccessToken> {
  const validation = resolveAccessTokenValidation(context);
  const verified = await verifyJwtAccessToken(
    token,
    validation,
    context.keys,
    context.now ?? new Date(),
  );
  if (context.requiredScopes) requireScopes(verified, context.requiredScopes);
  return verified;
}

/**
 * {@link verifyAccessToken} with settings already resolved and without the scope check: the
 * building block of `AccessTokenVerifier`.
 */
export async function verifyJwtAccessToken(
  token: string,
  validation: ResolvedAccessTokenValidation,
  keys: AccessTokenKeySource,
  now: Date,
): Promise<VerifiedAccessToken> {
  // 1. Size, then structure.
  if (token.length > validation.maxTokenBytes) {
    throw refuse('token_too_large', `the token exceeds ${validation.maxTokenBytes} bytes`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw refuse('token_malformed', 'the token is not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (
    !BASE64URL.test(headerPart) ||
    !BASE64URL.test(payloadPart) ||
    // An empty signature is well-formed (`alg: none`); the algorithm check refuses it below.
    !/^[A-Za-z0-9_-]*$/.test(signaturePart)
  ) {
    throw refuse('token_malformed', 'the token is not base64url-encoded');
  }
  const header = decodeJsonObject(headerPart, 'header');
  decodeJsonObject(payloadPart, 'payload');

  // 2. Header (RFC 9068 §4).
  const typ = header.typ;
  if (typeof typ !== 'string' || !AT_JWT_TYP.test(typ)) {
    throw refuse(
      'typ_invalid',
      typ === undefined ? 'the header has no typ' : `typ ${printable(typ)} is not at+jwt`,
      'typ',
    );
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !validation.algorithms.includes(alg)) {
    throw refuse('alg_not_allowed', `alg ${printable(alg)} is not accepted`, 'alg');
  }
  if ('crit' in header) {
    throw refuse('crit_unsupported', 'the header has a crit parameter', 'crit');
  }
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    throw refuse('token_malformed', 'the header kid is not a non-empty string', 'kid');
  }

  // 3. Keys and signature.
  const select = (snapshot: KeySetSnapshot): Candidate[] | AccessTokenError => {
    const named = kid === undefined ? snapshot.keys : snapshot.keys.filter((k) => k.kid === kid);
    if (named.length === 0) {
      return refuse('kid_unknown', `no key of the issuer has kid ${printable(kid)}`, 'kid');
    }
    const fitting = named.filter((jwk) => jwkFitsAlgorithm(jwk, alg));
    if (fitting.length === 0) {
      return refuse(
        'no_usable_key',
        kid === undefined
          ? `no key of the issuer fits alg ${alg}`
          : `the key ${printable(kid)} does not fit alg ${alg}`,
        'kid',
      );
    }
    return fitting.slice(0, MAX_KEYS_WITHOUT_KID).map((jwk) => ({ jwk }));
  };
  const tryKeys = async (candidates: readonly Candidate[]): Promise<Uint8Array | undefined> => {
    for (const { jwk } of candidates) {
      let key: CryptoKey;
      try {
        key = await importVerificationKey(jwk, alg);
      } catch {
        continue; // an unimportable key is skipped
      }
      try {
        return (await compactVerify(token, key, { algorithms: [alg] })).payload;
      } catch {
        // signature mismatch: next key
      }
    }
    return undefined;
  };

  let refreshed = false;
  const refresh = async (): Promise<KeySetSnapshot | undefined> => {
    refreshed = true;
    return keySourceCall(() => keys.refresh());
  };
  let selection = select(await keySourceCall(() => keys.get()));
  if (selection instanceof AccessTokenError) {
    // An unknown kid (or no fitting key) may mean the issuer rotated: one refetch.
    const fresh = await refresh();
    if (fresh) selection = select(fresh);
    if (selection instanceof AccessTokenError) throw selection;
  }
  let payload = await tryKeys(selection);
  if (!payload && !refreshed) {
    // A failed signature with a cache older than the cooldown: one refetch, one retry.
    const fresh = await refresh();
    const retry = fresh ? select(fresh) : undefined;
    if (Array.isArray(retry)) payload = await tryKeys(retry);
  }
  if (!payload) throw refuse('signature_invalid', 'the signature did not verify');

  // 4. Claims: those of the verified payload (the same bytes as the decoded part).
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(UTF8.decode(payload)) as Record<string, unknown>;
  } catch {
    throw refuse('token_malformed', 'the payload is not JSON');
  }
  const checked = checkAccessTokenClaims(claims, validation, now, 'jwt');
  return Object.freeze({
    source: 'jwt' as const,
    ...checked,
    alg,
    ...(kid !== undefined && { kid: kid as string }),
    claims: Object.freeze(claims),
  });
}

/** Runs a key source call; a failure is an outage of the issuer's keys (503), never a refusal. */
async function keySourceCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    if (cause instanceof OAuthError) throw cause;
    throw new DependencyUnavailableError('issuer-keys', { cause });
  }
}
