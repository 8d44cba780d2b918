import { randomBytes } from 'node:crypto';
import { CLIENT_AUTHENTICATION_DEFAULTS } from '../options.js';
import { ClientAuthConfigurationError, SigningKeyError } from '../outgoing/outgoing-errors.js';
import {
  isSigningKeySource,
  type AssertionSigningKey,
  type SigningKeySource,
} from './signing-key.js';

/** The explicit type of client assertions (draft-ietf-oauth-rfc7523bis). */
export const CLIENT_AUTHENTICATION_JWT_TYP = 'client-authentication+jwt';

/** Default assertion lifetime (`exp − iat`), in seconds (SPEC S7). */
export const DEFAULT_ASSERTION_LIFETIME_SECONDS = 60;

/**
 * Default ceiling on the assertion lifetime: the cap servers apply by default (SPEC S2.6, 300 s).
 * A lifetime above the server's cap is refused by the server, so it is refused here first.
 */
export const DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS =
  CLIENT_AUTHENTICATION_DEFAULTS.maxAssertionLifetimeSeconds;

/** Bytes of randomness in a generated `jti`: 192 bits (SPEC S7 asks for at least 128). */
const JTI_BYTES = 24;

/** Claims the signer sets itself; `claims` may not override them. */
const REGISTERED = ['iss', 'sub', 'aud', 'iat', 'exp', 'jti'] as const;

/** Options of {@link signClientAssertion}. */
export interface SignClientAssertionOptions {
  /** The client's `client_id`: `iss` and `sub` (RFC 7523 §3 items 1–2). */
  readonly clientId: string;
  /**
   * `aud` (RFC 7523 §3 item 3): the authorization server's issuer identifier
   * (draft-ietf-oauth-rfc7523bis), or the token endpoint URL for servers that demand it.
   */
  readonly audience: string | readonly string[];
  /** The signing key, or a source of the current key. */
  readonly key: AssertionSigningKey | SigningKeySource;
  /** `exp − iat` in seconds. Default 60. */
  readonly lifetimeSeconds?: number;
  /** Largest accepted `lifetimeSeconds` (the server's cap). Default 300. */
  readonly maxLifetimeSeconds?: number;
  /**
   * JOSE `typ` header: `client-authentication+jwt` by default (draft-ietf-oauth-rfc7523bis);
   * `false` sends none, for servers that predate the draft.
   */
  readonly typ?: string | false;
  /** The current time. Default: now. */
  readonly now?: Date;
  /** `jti`. Default: 192 random bits, base64url. Must be unique per assertion (RFC 7523 §3 item 7). */
  readonly jti?: string;
  /** Further claims; the registered ones above cannot be overridden. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Validates a lifetime against its ceiling (SPEC S7: never above the server's cap). */
export function resolveAssertionLifetime(
  lifetimeSeconds: number | undefined,
  maxLifetimeSeconds: number | undefined,
): number {
  const max = maxLifetimeSeconds ?? DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS;
  if (!Number.isInteger(max) || max < 1) {
    throw new ClientAuthConfigurationError('maxLifetimeSeconds must be a positive integer');
  }
  const lifetime = lifetimeSeconds ?? Math.min(DEFAULT_ASSERTION_LIFETIME_SECONDS, max);
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > max) {
    throw new ClientAuthConfigurationError(
      `lifetimeSeconds must be an integer from 1 to ${max} (the server's cap on assertion lifetime)`,
    );
  }
  return lifetime;
}

function base64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Signs an RFC 7523 client assertion:
 * - header: `alg` and `kid` of the key, `typ: client-authentication+jwt` unless turned off;
 * - claims: `iss` = `sub` = client_id (§3 items 1–2), `aud` (§3 item 3), `iat`, `exp` = `iat` +
 *   lifetime (§3 item 4; 60 s by default, at most the server's cap), a random `jti` of 192 bits
 *   (§3 item 7).
 *
 * Signing does no I/O except through a KMS callback key. The assertion is a bearer credential
 * for its lifetime: never log it.
 *
 * @example
 * ```ts
 * const assertion = await signClientAssertion({
 *   clientId: 'billing',
 *   audience: 'https://auth.example.com',
 *   key: importPrivateSigningKey(privateJwk),
 * });
 * ```
 */
export async function signClientAssertion(options: SignClientAssertionOptions): Promise<string> {
  const { clientId, audience } = options;
  if (typeof clientId !== 'string' || clientId === '') {
    throw new ClientAuthConfigurationError('clientId must be a non-empty string');
  }
  const audiences = typeof audience === 'string' ? [audience] : [...audience];
  if (audiences.length === 0 || audiences.some((value) => typeof value !== 'string' || !value)) {
    throw new ClientAuthConfigurationError('audience must be a non-empty string or list of them');
  }
  const lifetime = resolveAssertionLifetime(options.lifetimeSeconds, options.maxLifetimeSeconds);
  const typ = options.typ === undefined ? CLIENT_AUTHENTICATION_JWT_TYP : options.typ;
  if (typ !== false && (typeof typ !== 'string' || typ === '')) {
    throw new ClientAuthConfigurationError('typ must be a non-empty string or false');
  }
  if (options.jti !== undefined && (typeof options.jti !== 'string' || options.jti === '')) {
    throw new ClientAuthConfigurationError('jti must be a non-empty string');
  }
  const extra = options.claims ?? {};
  const overridden = REGISTERED.find((name) => name in extra);
  if (overridden) {
    throw new ClientAuthConfigurationError(
      `claims may not set ${overridden}; it is set by the signer`,
    );
  }

  const key = isSigningKeySource(options.key) ? await options.key.current() : options.key;
  if (!key || typeof key.alg !== 'string' || typeof key.sign !== 'function') {
    throw new SigningKeyError('key_invalid', 'the key source returned no usable key');
  }
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const header: Record<string, string> = { alg: key.alg };
  if (key.kid !== undefined) header.kid = key.kid;
  if (typ !== false) header.typ = typ;
  const payload = {
    ...extra,
    iss: clientId,
    sub: clientId,
    aud: audiences.length === 1 ? audiences[0] : audiences,
    iat,
    exp: iat + lifetime,
    jti: options.jti ?? randomBytes(JTI_BYTES).toString('base64url'),
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = await key.sign(new TextEncoder().encode(input));
  if (!(signature instanceof Uint8Array) || signature.length === 0) {
    throw new SigningKeyError('signing_failed', 'the key produced an empty signature');
  }
  return `${input}.${base64url(signature)}`;
}
