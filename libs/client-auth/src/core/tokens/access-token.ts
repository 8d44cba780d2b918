import { KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { signCompactJws } from '../crypto/jws.js';
import { randomId } from '../crypto/random-id.js';

/** A private key the server signs access tokens with. */
export interface ServerSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
}

/** What an access token says (RFC 9068 §2.2). */
export interface AccessTokenContent {
  readonly issuer: string;
  /** The client the token is issued to (`client_id`). */
  readonly clientId: string;
  /** The principal: the client itself for `client_credentials`, the asserted subject for the JWT bearer grant. */
  readonly subject: string;
  /** One audience or several (RFC 8707 resources). */
  readonly audience: string | readonly string[];
  readonly scope?: string;
  readonly ttlSeconds: number;
  /** Extra claims (never overriding the registered ones). */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly now?: Date;
}

/** An issued access token. */
export interface IssuedAccessToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresIn: number;
  readonly expiresAt: Date;
}

/**
 * Signs an RFC 9068 JWT access token: header `typ: at+jwt` with the key's `alg` and `kid`;
 * claims `iss`, `sub`, `aud`, `client_id`, `scope`, `iat`, `exp` and a 128-bit random `jti`.
 *
 * @example
 * ```ts
 * const { token } = await signAccessToken(key, {
 *   issuer, clientId: 'billing', subject: 'billing', audience: issuer, ttlSeconds: 300,
 * });
 * ```
 */
export async function signAccessToken(
  key: ServerSigningKey,
  content: AccessTokenContent,
): Promise<IssuedAccessToken> {
  const now = Math.floor((content.now ?? new Date()).getTime() / 1000);
  const jti = randomId();
  const audience =
    typeof content.audience === 'string' || content.audience.length !== 1
      ? (content.audience as string | string[])
      : content.audience[0]!;
  const payload: Record<string, unknown> = {
    ...content.claims,
    client_id: content.clientId,
    ...(content.scope ? { scope: content.scope } : {}),
    iss: content.issuer,
    sub: content.subject,
    aud: audience,
    iat: now,
    exp: now + content.ttlSeconds,
    jti,
  };
  // Synchronous node:crypto signing (see core/crypto/jws.ts for why not WebCrypto).
  const token = signCompactJws(
    key.alg,
    keyObjectOf(key.privateKey),
    { alg: key.alg, kid: key.kid, typ: 'at+jwt' },
    payload,
  );
  return {
    token,
    jti,
    expiresIn: content.ttlSeconds,
    expiresAt: new Date((now + content.ttlSeconds) * 1000),
  };
}

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/** The `KeyObject` of a WebCrypto key, converted once. */
function keyObjectOf(key: CryptoKey): KeyObject {
  let converted = keyObjects.get(key);
  if (!converted) {
    converted = KeyObject.from(key);
    keyObjects.set(key, converted);
  }
  return converted;
}
