import { webcrypto } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { hashBitsFor } from '../assertion/algorithms.js';

/**
 * Imported keys, keyed on the JWK object (client stores and key-set providers return the same
 * objects while a registration or key set is unchanged) and then on the algorithm, so a key is
 * imported once per algorithm and dropped with its JWK.
 */
const publicKeys = new WeakMap<object, Map<string, Promise<CryptoKey>>>();

/** HMAC keys, keyed on the credential object that holds the raw secret, then on the algorithm. */
const hmacKeys = new WeakMap<object, Map<string, Promise<CryptoKey>>>();

function cached(
  cache: WeakMap<object, Map<string, Promise<CryptoKey>>>,
  owner: object,
  alg: string,
  load: () => Promise<CryptoKey>,
): Promise<CryptoKey> {
  const perAlg = cache.get(owner) ?? new Map<string, Promise<CryptoKey>>();
  cache.set(owner, perAlg);
  let key = perAlg.get(alg);
  if (!key) {
    key = load();
    perAlg.set(alg, key);
    // A failed import is not remembered: the next call retries.
    key.catch(() => perAlg.delete(alg));
  }
  return key;
}

/** The public members of a JWK per key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
function publicMembers(jwk: JWK): JWK {
  switch (jwk.kty) {
    case 'RSA':
      return { kty: 'RSA', n: jwk.n, e: jwk.e };
    case 'EC':
      return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
    case 'OKP':
      return { kty: 'OKP', crv: jwk.crv, x: jwk.x };
    default:
      throw new TypeError(`unsupported public key type ${String(jwk.kty)}`);
  }
}

/**
 * Imports the public part of a registered JWK as a WebCrypto verification key for `alg`, once
 * per (JWK object, alg). Private members a registration should not hold are ignored, so the
 * result is always a public key.
 */
export function importVerificationKey(jwk: JWK, alg: string): Promise<CryptoKey> {
  return cached(publicKeys, jwk, alg, async () => {
    const key = await importJWK(publicMembers(jwk), alg, { extractable: false });
    if (key instanceof Uint8Array) throw new TypeError('expected an asymmetric key');
    return key;
  });
}

/**
 * Imports a raw `client_secret_jwt` secret (its UTF-8 bytes, OpenID Connect Core §9 / RFC 7518
 * §3.2) as an HMAC verification key for `alg` (HS256/384/512), once per (credential, alg).
 * `owner` is the object the secret belongs to (the stored credential).
 */
export function importHmacKey(owner: object, secret: string, alg: string): Promise<CryptoKey> {
  return cached(hmacKeys, owner, alg, async () => {
    const bits = hashBitsFor(alg);
    if (bits === undefined || !alg.startsWith('HS')) {
      throw new TypeError(`not an HMAC algorithm: ${alg}`);
    }
    return (await webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: `SHA-${bits}` },
      false,
      ['verify'],
    )) as CryptoKey;
  });
}
