import {
  constants,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  createHmac,
  KeyObject,
  type JsonWebKey,
  sign as cryptoSign,
  type webcrypto,
} from 'node:crypto';
import type { JWK } from 'jose';
import {
  algorithmNamesMatch,
  CLIENT_SECRET_JWT_ALGORITHMS,
  hashBitsFor,
  jwkFitsAlgorithm,
  methodForAlgorithm,
  minimumHmacSecretBytes,
  PRIVATE_KEY_JWT_ALGORITHMS,
  type AssertionAuthMethod,
} from '../assertion/algorithms.js';
import { ClientAuthConfigurationError, SigningKeyError } from '../outgoing/outgoing-errors.js';
import { normalizeEcdsaSignature, type EcdsaSignatureFormat } from './ecdsa-signature.js';

/**
 * A key ready to sign client assertions. `sign` receives the JWS Signing Input (RFC 7515 §5.1:
 * the ASCII bytes of `BASE64URL(header) '.' BASE64URL(payload)`) and returns the JWS Signature
 * bytes — for ES256/384/512 the raw R‖S form of RFC 7518 §3.4, not DER.
 */
export interface AssertionSigningKey {
  /** JWS `alg` the key signs with (goes into the header). */
  readonly alg: string;
  /** JWS `kid` (goes into the header when set). */
  readonly kid?: string;
  /** The JWT method the key serves: `client_secret_jwt` for HS*, else `private_key_jwt`. */
  readonly method: AssertionAuthMethod;
  /** Signs the JWS Signing Input. */
  sign(input: Uint8Array): Promise<Uint8Array>;
}

/**
 * Where the signing key comes from when it can change over time (a file re-read on rotation).
 * `current()` must not do I/O on the caller's path: sources refresh in the background.
 */
export interface SigningKeySource {
  /** The JWT method the source's keys serve. */
  readonly method?: AssertionAuthMethod;
  /** The key to sign with now. */
  current(): AssertionSigningKey | Promise<AssertionSigningKey>;
  /** Stops background work (timers). Idempotent. */
  close?(): void;
}

/** What an imported private key may be given as. */
export type PrivateKeyMaterial = JWK | string | KeyObject | webcrypto.CryptoKey;

/** Options of {@link importPrivateSigningKey}. */
export interface PrivateSigningKeyOptions {
  /**
   * JWS algorithm. Default: the JWK's `alg`, else inferred from the key — RSA → RS256, P-256 →
   * ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA. Must fit the key (SPEC S2.4).
   */
  readonly alg?: string;
  /** `kid` for the header when the key carries none (a JWK's own `kid` takes precedence). */
  readonly kid?: string;
  /** Passphrase of an encrypted PKCS#8 PEM. */
  readonly passphrase?: string;
}

/** Options of {@link importSecretSigningKey} (`client_secret_jwt`). */
export interface SecretSigningKeyOptions {
  /** HS256, HS384 or HS512 (RFC 7518 §3.2). Default HS256. */
  readonly alg?: string;
  /** `kid` for the header. Default: none. */
  readonly kid?: string;
}

/** The callback of a KMS/HSM key: signs the JWS Signing Input and returns the signature. */
export type SignatureCallback = (
  input: Uint8Array,
  key: { readonly alg: string; readonly kid?: string },
) => Promise<Uint8Array | ArrayBuffer> | Uint8Array | ArrayBuffer;

/** Options of {@link callbackSigningKey}. */
export interface CallbackSigningKeyOptions {
  /** JWS algorithm the remote key signs with (any `private_key_jwt` or `client_secret_jwt` one). */
  readonly alg: string;
  /** `kid` for the header. */
  readonly kid?: string;
  /**
   * Signs the JWS Signing Input (RFC 7515 §5.1) with the key held outside the process. The
   * bytes to sign are the input itself: a KMS that signs digests must hash them with the
   * algorithm's SHA-2 function first.
   */
  readonly sign: SignatureCallback;
  /**
   * Form of ECDSA signatures returned by `sign`: `raw` (R‖S, RFC 7518 §3.4), `der` (ASN.1
   * `ECDSA-Sig-Value`, what AWS KMS, Google Cloud KMS, Azure Key Vault's DER mode and PKCS#11
   * wrappers commonly return) or `auto` (default: raw when exactly the raw length, else DER).
   */
  readonly signatureFormat?: EcdsaSignatureFormat;
}

const EC_ALG_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  'P-256': 'ES256',
  secp384r1: 'ES384',
  'P-384': 'ES384',
  secp521r1: 'ES512',
  'P-521': 'ES512',
};

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;

function keyInvalid(message: string, cause?: unknown): SigningKeyError {
  return new SigningKeyError('key_invalid', message, { cause });
}

function inferAlgorithm(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'ec': {
      const alg = EC_ALG_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (!alg) {
        throw keyInvalid(
          `EC curve ${String(key.asymmetricKeyDetails?.namedCurve)} is not supported`,
        );
      }
      return alg;
    }
    case 'ed25519':
      return 'EdDSA';
    default:
      throw keyInvalid(
        `key type ${String(key.asymmetricKeyType)} is not supported (use RSA, EC P-256/384/521 or Ed25519)`,
      );
  }
}

/**
 * Checks that a private key can sign `alg` under SPEC S2.4: the algorithm is a `private_key_jwt`
 * one, and the key's public part fits it (type, curve, RSA ≥ 2048 bits — RFC 7518 §3.3).
 */
function assertFits(key: KeyObject, alg: string): void {
  if (!PRIVATE_KEY_JWT_ALGORITHMS.includes(alg)) {
    throw keyInvalid(
      `${alg} is not a private_key_jwt algorithm (${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')})`,
    );
  }
  let jwk: JWK;
  try {
    jwk = createPublicKey(key).export({ format: 'jwk' }) as JWK;
  } catch (cause) {
    throw keyInvalid(`key type ${String(key.asymmetricKeyType)} is not supported`, cause);
  }
  if (!jwkFitsAlgorithm(jwk, alg)) {
    const detail =
      key.asymmetricKeyType === 'rsa'
        ? `an RSA key of ${key.asymmetricKeyDetails?.modulusLength} bits`
        : `a ${key.asymmetricKeyType} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''}`;
    throw keyInvalid(`${detail} cannot sign ${alg} (RFC 7518 §3; RSA needs 2048 bits or more)`);
  }
}

/** The node:crypto signing function of a JWS algorithm (RFC 7518 §3.3–3.5, RFC 8037 §3.1). */
function asymmetricSigner(key: KeyObject, alg: string): (input: Uint8Array) => Promise<Uint8Array> {
  const bits = hashBitsFor(alg);
  const hash = bits === undefined ? null : `sha${bits}`;
  const keyInput = alg.startsWith('PS')
    ? // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits! / 8 }
    : alg.startsWith('ES')
      ? // RFC 7518 §3.4: R‖S, not DER.
        { key, dsaEncoding: 'ieee-p1363' as const }
      : { key };
  // The callback form runs in the libuv thread pool, so RSA signing does not block the loop.
  return (input) =>
    new Promise((resolve, reject) => {
      cryptoSign(hash, input, keyInput, (error, signature) => {
        if (error)
          reject(new SigningKeyError('signing_failed', `${alg} signing failed`, { cause: error }));
        else resolve(new Uint8Array(signature));
      });
    });
}

function toKeyObject(material: PrivateKeyMaterial, passphrase?: string): KeyObject {
  if (material instanceof KeyObject) return material;
  if (typeof material === 'string') {
    try {
      return createPrivateKey({ key: material, format: 'pem', passphrase });
    } catch (cause) {
      throw keyInvalid('the PEM is not a readable private key (PKCS#8 expected)', cause);
    }
  }
  if (typeof (material as webcrypto.CryptoKey).algorithm === 'object') {
    return KeyObject.from(material as webcrypto.CryptoKey);
  }
  throw keyInvalid('unsupported key material');
}

function jwkToKeyObject(jwk: JWK): KeyObject {
  if (jwk.kty === 'oct') {
    throw keyInvalid('a symmetric JWK cannot sign private_key_jwt; use a client secret instead');
  }
  if (!PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
    throw keyInvalid('the JWK has no private part (d)');
  }
  // RFC 7517 §4.2–4.3: a key restricted to another use or operation is not used to sign.
  if (jwk.use !== undefined && jwk.use !== 'sig') throw keyInvalid('the JWK use is not "sig"');
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('sign'))) {
    throw keyInvalid('the JWK key_ops do not include "sign"');
  }
  const { alg: _alg, kid: _kid, use: _use, key_ops: _ops, ext: _ext, ...members } = jwk;
  try {
    return createPrivateKey({ key: members as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw keyInvalid('the JWK is not a valid private key', cause);
  }
}

/**
 * Imports a private key for `private_key_jwt` once — a JWK (RFC 7517), a PKCS#8 PEM, a
 * node:crypto `KeyObject` or a WebCrypto `CryptoKey` — and returns a key that signs without
 * further I/O. `alg` and `kid` come from the key when it carries them (a JWK), else from
 * `options`, else `alg` is inferred from the key type. Throws `SigningKeyError('key_invalid')`
 * when the key cannot sign the algorithm under SPEC S2.4.
 *
 * @example
 * ```ts
 * const key = importPrivateSigningKey(readFileSync('client.pem', 'utf8'), { kid: 'k1' });
 * ```
 */
export function importPrivateSigningKey(
  material: PrivateKeyMaterial,
  options: PrivateSigningKeyOptions = {},
): AssertionSigningKey {
  const isJwk =
    typeof material === 'object' &&
    !(material instanceof KeyObject) &&
    typeof (material as JWK).kty === 'string';
  const jwk = isJwk ? (material as JWK) : undefined;
  const keyObject = jwk ? jwkToKeyObject(jwk) : toKeyObject(material, options.passphrase);
  if (keyObject.type !== 'private') throw keyInvalid('a private key is needed to sign');

  if (jwk?.alg !== undefined && options.alg !== undefined) {
    if (!algorithmNamesMatch(jwk.alg, options.alg)) {
      throw keyInvalid(`the JWK is bound to ${jwk.alg}, not ${options.alg} (RFC 7517 §4.4)`);
    }
  }
  const alg = options.alg ?? jwk?.alg ?? inferAlgorithm(keyObject);
  assertFits(keyObject, alg);
  const kid = (typeof jwk?.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined) ?? options.kid;
  return Object.freeze({
    alg,
    ...(kid !== undefined ? { kid } : {}),
    method: 'private_key_jwt' as const,
    sign: asymmetricSigner(keyObject, alg),
  });
}

/**
 * Imports a client secret as a `client_secret_jwt` key (OpenID Connect Core §9: HMAC keyed with
 * the octets of the UTF-8 secret). RFC 7518 §3.2: the key must be at least as long as the hash
 * output (32, 48, 64 bytes for HS256/384/512), so a shorter secret is refused.
 */
export function importSecretSigningKey(
  secret: string | Uint8Array,
  options: SecretSigningKeyOptions = {},
): AssertionSigningKey {
  const alg = options.alg ?? 'HS256';
  if (!CLIENT_SECRET_JWT_ALGORITHMS.includes(alg)) {
    throw keyInvalid(`${alg} is not a client_secret_jwt algorithm (HS256, HS384, HS512)`);
  }
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  const minimum = minimumHmacSecretBytes(alg);
  if (bytes.length < minimum) {
    throw keyInvalid(
      `the secret has ${bytes.length} bytes; ${alg} needs at least ${minimum} (RFC 7518 §3.2)`,
    );
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  const hash = `sha${hashBitsFor(alg)}`;
  return Object.freeze({
    alg,
    ...(options.kid !== undefined ? { kid: options.kid } : {}),
    method: 'client_secret_jwt' as const,
    sign: (input: Uint8Array) =>
      Promise.resolve(new Uint8Array(createHmac(hash, key).update(input).digest())),
  });
}

function expectedLength(alg: string): { min: number; max: number } {
  if (alg.startsWith('HS')) {
    const bytes = hashBitsFor(alg)! / 8;
    return { min: bytes, max: bytes };
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') return { min: 64, max: 64 };
  // RSA: the modulus length, at least 2048 bits (RFC 7518 §3.3).
  return { min: 256, max: 2048 };
}

/**
 * A key held outside the process — a KMS or HSM — behind a callback: the library builds the
 * JWS Signing Input, the callback signs it, the library assembles the JWS. ECDSA signatures
 * are accepted raw (R‖S) or DER and always sent raw (RFC 7518 §3.4); other signatures are
 * checked for a plausible length. A callback failure surfaces as
 * `SigningKeyError('signing_failed')` with the original error as `cause`.
 *
 * @example
 * ```ts
 * const key = callbackSigningKey({
 *   alg: 'ES256',
 *   kid: 'kms-key-1',
 *   sign: async (input) => kms.sign({ KeyId, Message: createHash('sha256').update(input).digest(),
 *     MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }).then((r) => r.Signature!),
 * });
 * ```
 */
export function callbackSigningKey(options: CallbackSigningKeyOptions): AssertionSigningKey {
  const { alg, kid, signatureFormat = 'auto' } = options;
  if (!PRIVATE_KEY_JWT_ALGORITHMS.includes(alg) && !CLIENT_SECRET_JWT_ALGORITHMS.includes(alg)) {
    throw new ClientAuthConfigurationError(`signing callback: ${alg} is not a supported algorithm`);
  }
  if (typeof options.sign !== 'function') {
    throw new ClientAuthConfigurationError('signing callback: sign must be a function');
  }
  const info = Object.freeze({ alg, ...(kid !== undefined ? { kid } : {}) });
  const bounds = expectedLength(alg);
  return Object.freeze({
    ...info,
    method: methodForAlgorithm(alg),
    async sign(input: Uint8Array): Promise<Uint8Array> {
      let result: Uint8Array | ArrayBuffer;
      try {
        result = await options.sign(input, info);
      } catch (cause) {
        throw new SigningKeyError('signing_failed', 'the signing callback failed', { cause });
      }
      let signature: Uint8Array;
      if (result instanceof Uint8Array) signature = result;
      else if (result instanceof ArrayBuffer) signature = new Uint8Array(result);
      else throw new SigningKeyError('signing_failed', 'the signing callback returned no bytes');
      if (alg.startsWith('ES')) return normalizeEcdsaSignature(signature, alg, signatureFormat);
      if (signature.length < bounds.min || signature.length > bounds.max) {
        throw new SigningKeyError(
          'signing_failed',
          `the signing callback returned ${signature.length} bytes, not a ${alg} signature`,
        );
      }
      return signature;
    },
  });
}

/** Whether a value is a {@link SigningKeySource} (has `current()`). */
export function isSigningKeySource(value: unknown): value is SigningKeySource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SigningKeySource).current === 'function'
  );
}
