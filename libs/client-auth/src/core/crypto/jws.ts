import {
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import type { JWK } from 'jose';
import { hashBitsFor } from '../assertion/algorithms.js';

/**
 * JWS signatures (RFC 7515 §5.2, RFC 7518 §3) with `node:crypto` key objects, synchronously.
 *
 * Why not WebCrypto (jose's path): on the token endpoint every request verifies one assertion and
 * signs one access token, and WebCrypto's asynchronous calls hop through the thread pool; the
 * benchmark measured the same verify + sign 30–60% faster through `node:crypto` on this machine.
 * The rules are the same: the algorithm is fixed by the caller (never read from the token), ECDSA
 * signatures are the fixed-size R‖S form of RFC 7518 §3.4, RSASSA-PSS uses a salt as long as the
 * hash (§3.5), HMAC results are compared in constant time.
 */

const HASH: Record<256 | 384 | 512, string> = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
/** R‖S length of an ECDSA signature per algorithm (RFC 7518 §3.4). */
const ECDSA_SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

const publicKeyObjects = new WeakMap<object, Map<string, KeyObject>>();
const secretKeyObjects = new WeakMap<object, Map<string, KeyObject>>();

function cachedKey(
  cache: WeakMap<object, Map<string, KeyObject>>,
  owner: object,
  alg: string,
  load: () => KeyObject,
): KeyObject {
  let perAlg = cache.get(owner);
  if (!perAlg) {
    perAlg = new Map();
    cache.set(owner, perAlg);
  }
  let key = perAlg.get(alg);
  if (!key) {
    key = load();
    perAlg.set(alg, key);
  }
  return key;
}

/**
 * The public key of a registered JWK as a `KeyObject`, imported once per (JWK object, alg).
 * Only the public members are read, so a stray private member can never make it a private key.
 * Throws when the JWK cannot be imported.
 */
export function publicKeyObject(jwk: JWK, alg: string): KeyObject {
  return cachedKey(publicKeyObjects, jwk, alg, () => {
    const members =
      jwk.kty === 'RSA'
        ? { kty: 'RSA', n: jwk.n, e: jwk.e }
        : jwk.kty === 'EC'
          ? { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }
          : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    const key = createPublicKey({ key: members as never, format: 'jwk' });
    if (key.type !== 'public') throw new TypeError('expected a public key');
    return key;
  });
}

/**
 * A `client_secret_jwt` secret (its UTF-8 bytes, OpenID Connect Core §9) as an HMAC key for
 * `alg`, once per (credential object, alg). Refuses a non-HMAC algorithm.
 */
export function hmacKeyObject(owner: object, secret: string, alg: string): KeyObject {
  if (!/^HS(256|384|512)$/.test(alg)) throw new TypeError(`not an HMAC algorithm: ${alg}`);
  return cachedKey(secretKeyObjects, owner, alg, () =>
    createSecretKey(Buffer.from(secret, 'utf8')),
  );
}

/**
 * Whether `signature` is a valid JWS signature of `signingInput` (the ASCII of
 * `base64url(header) "." base64url(payload)`) by `key` under `alg`. Never throws for a bad
 * signature: a malformed one is simply not valid.
 */
export function verifyJwsSignature(
  alg: string,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  try {
    if (alg === 'EdDSA' || alg === 'Ed25519' || alg === 'Ed448') {
      // RFC 8037 §3.1 `EdDSA` with either curve; RFC 9864 fully specified names bind one curve.
      const type = key.asymmetricKeyType;
      const fits =
        alg === 'EdDSA' ? type === 'ed25519' || type === 'ed448' : type === alg.toLowerCase();
      return fits && nodeVerify(null, signingInput, key, signature);
    }
    const bits = hashBitsFor(alg);
    if (bits === undefined) return false;
    const hash = HASH[bits];
    switch (alg.slice(0, 2)) {
      case 'HS': {
        if (key.type !== 'secret') return false;
        const expected = createHmac(hash, key).update(signingInput).digest();
        return expected.length === signature.length && timingSafeEqual(expected, signature);
      }
      case 'RS':
        return key.asymmetricKeyType === 'rsa' && nodeVerify(hash, signingInput, key, signature);
      case 'PS':
        return (
          key.asymmetricKeyType === 'rsa' &&
          nodeVerify(
            hash,
            signingInput,
            {
              key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
            },
            signature,
          )
        );
      case 'ES':
        return (
          key.asymmetricKeyType === 'ec' &&
          signature.length === ECDSA_SIGNATURE_BYTES[alg] &&
          nodeVerify(hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/**
 * Signs a compact JWS (RFC 7515 §7.1) with a private `KeyObject`: the header and payload are
 * serialised as given. Supports the asymmetric algorithms of {@link verifyJwsSignature}.
 */
export function signCompactJws(
  alg: string,
  key: KeyObject,
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
): string {
  const encodedHeader = Buffer.from(JSON.stringify({ ...header, alg })).toString('base64url');
  const encodedPayload = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  let signature: Buffer;
  if (alg === 'EdDSA' || alg === 'Ed25519' || alg === 'Ed448') {
    signature = nodeSign(null, input, key);
  } else {
    const bits = hashBitsFor(alg);
    if (bits === undefined || alg.startsWith('HS')) {
      throw new TypeError(`unsupported signing algorithm ${alg}`);
    }
    const hash = HASH[bits];
    signature = alg.startsWith('ES')
      ? nodeSign(hash, input, { key, dsaEncoding: 'ieee-p1363' })
      : alg.startsWith('PS')
        ? nodeSign(hash, input, {
            key,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          })
        : nodeSign(hash, input, key);
  }
  return `${encodedHeader}.${encodedPayload}.${signature.toString('base64url')}`;
}
