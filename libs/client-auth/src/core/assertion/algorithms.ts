import type { JWK } from 'jose';
import type { TokenEndpointAuthMethod } from '../types.js';

/** The JWT client authentication methods of RFC 7523 §2.2 / OpenID Connect Core §9. */
export type AssertionAuthMethod = Extract<
  TokenEndpointAuthMethod,
  'private_key_jwt' | 'client_secret_jwt'
>;

/**
 * Algorithms accepted for `private_key_jwt` (SPEC S2.4): RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA
 * (RFC 7518 §3.3–3.5) and EdDSA with Ed25519 (RFC 8037 §3.1).
 *
 * `Ed25519` is the fully-specified name of the same algorithm (RFC 9864 §2.2), which jose 6
 * verifies like `EdDSA`; it is accepted so that clients on newer libraries interoperate. Both
 * names only ever verify with an `OKP`/`Ed25519` key (Ed448 is not supported).
 */
export const PRIVATE_KEY_JWT_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Algorithms accepted for `client_secret_jwt` (SPEC S2.4; RFC 7518 §3.2 HMAC with SHA-2). */
export const CLIENT_SECRET_JWT_ALGORITHMS: readonly string[] = Object.freeze([
  'HS256',
  'HS384',
  'HS512',
]);

/**
 * The algorithms a JWT method accepts. `none` is never among them (SPEC S2.4, RFC 7523 §3 item 9:
 * the JWT MUST be digitally signed or MACed).
 */
export function algorithmsFor(method: AssertionAuthMethod): readonly string[] {
  return method === 'client_secret_jwt' ? CLIENT_SECRET_JWT_ALGORITHMS : PRIVATE_KEY_JWT_ALGORITHMS;
}

/** Whether `alg` is accepted for `method` (SPEC S2.4). Case-sensitive, as JWA names are. */
export function isAlgorithmAllowed(method: AssertionAuthMethod, alg: unknown): alg is string {
  return typeof alg === 'string' && algorithmsFor(method).includes(alg);
}

/**
 * The JWT method an assertion's header `alg` belongs to: `HS*` is `client_secret_jwt`, anything
 * else is `private_key_jwt` (whose verifier then refuses what it does not accept, `none`
 * included). Used to detect a client using a method it did not register (SPEC S2.3).
 */
export function methodForAlgorithm(alg: unknown): AssertionAuthMethod {
  return typeof alg === 'string' && /^HS\d+$/.test(alg) ? 'client_secret_jwt' : 'private_key_jwt';
}

/** Size in bits of the SHA-2 hash used by a JWS algorithm, or undefined (EdDSA, unknown). */
export function hashBitsFor(alg: string): 256 | 384 | 512 | undefined {
  const match = /^(?:HS|RS|PS|ES)(256|384|512)$/.exec(alg);
  return match ? (Number(match[1]) as 256 | 384 | 512) : undefined;
}

/**
 * Minimum length in bytes of an HMAC secret for `alg`: RFC 7518 §3.2 requires a key of the same
 * size as the hash output or larger (32, 48, 64 bytes for HS256/384/512).
 */
export function minimumHmacSecretBytes(alg: string): number {
  const bits = /^HS(256|384|512)$/.test(alg) ? hashBitsFor(alg) : undefined;
  if (bits === undefined) throw new RangeError(`not an HMAC algorithm: ${alg}`);
  return bits / 8;
}

/** Minimum RSA modulus accepted (RFC 7518 §3.3 and §3.5: 2048 bits or larger). */
export const MIN_RSA_MODULUS_BITS = 2048;

const EC_CURVES: Readonly<Record<string, string>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
};

/**
 * Whether two algorithm names denote the same algorithm for a key's `alg` member: equal, or
 * `EdDSA` and `Ed25519` (RFC 9864 §2.2; only Ed25519 keys are supported for `EdDSA`).
 */
export function algorithmNamesMatch(keyAlg: string, alg: string): boolean {
  if (keyAlg === alg) return true;
  const eddsa = ['EdDSA', 'Ed25519'];
  return eddsa.includes(keyAlg) && eddsa.includes(alg);
}

function rsaModulusBits(n: unknown): number {
  if (typeof n !== 'string') return 0;
  const bytes = Buffer.from(n, 'base64url');
  const start = bytes.findIndex((b) => b !== 0);
  if (start < 0) return 0;
  return (bytes.length - start) * 8 - (Math.clz32(bytes[start]!) - 24);
}

/**
 * Whether a public JWK can verify signatures made with `alg` (SPEC S2.5: a key of the wrong type
 * is never tried):
 * - `kty` (and `crv` for EC/OKP) match the algorithm (RFC 7518 §6, RFC 8037 §2);
 * - the key's own `alg`, when set, names the same algorithm (RFC 7517 §4.4);
 * - `use`, when set, is `sig` (RFC 7517 §4.2); `key_ops`, when set, includes `verify` (§4.3);
 * - RSA moduli are at least 2048 bits (RFC 7518 §3.3).
 * Symmetric (`oct`) JWKs never fit: HMAC secrets come from `secret` credentials only.
 */
export function jwkFitsAlgorithm(jwk: JWK, alg: string): boolean {
  if (!PRIVATE_KEY_JWT_ALGORITHMS.includes(alg)) return false;
  if (typeof jwk.alg === 'string' && !algorithmNamesMatch(jwk.alg, alg)) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return false;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    return (
      jwk.kty === 'RSA' &&
      typeof jwk.e === 'string' &&
      rsaModulusBits(jwk.n) >= MIN_RSA_MODULUS_BITS
    );
  }
  if (alg.startsWith('ES')) {
    return (
      jwk.kty === 'EC' &&
      jwk.crv === EC_CURVES[alg] &&
      typeof jwk.x === 'string' &&
      typeof jwk.y === 'string'
    );
  }
  // EdDSA / Ed25519
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string';
}
