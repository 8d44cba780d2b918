import type { JWK } from 'jose';
import { InvalidJwksError } from './jwks-errors.js';

/** Options of {@link parseJwks}. */
export interface ParseJwksOptions {
  /** Cap on the number of keys in the set. Default 100. */
  readonly maxKeys?: number;
  /** Fewest acceptable keys after validation. Default 0 (an empty remote set is valid). */
  readonly minKeys?: number;
  /**
   * What to do with a well-formed key this library cannot verify signatures with: an unknown
   * `kty`, a curve such as X25519, `use` other than `sig`, `key_ops` without `verify`, or an
   * encryption `alg`. `false` (default, for registrations) refuses the set; `true` skips the key,
   * as RFC 7517 §5 recommends for sets fetched from a `jwks_uri`. Keys that are unsafe or
   * malformed (private members, symmetric keys, small RSA moduli, inconsistent `kty`/`crv`/`alg`,
   * duplicate `kid`s) are refused either way.
   */
  readonly ignoreUnusableKeys?: boolean;
}

/** Default cap on keys in a set (SPEC S3 "a cap on keys"). */
export const DEFAULT_MAX_JWKS_KEYS = 100;
/** Smallest RSA modulus accepted (RFC 7518 §3.3, §3.5). */
const MIN_RSA_BITS = 2048;
/** Largest RSA modulus accepted: bounds the verification cost of a hostile key. */
const MAX_RSA_BITS = 16384;
const MAX_KID_LENGTH = 256;
/**
 * Deepest nesting of arrays and objects accepted in one key (a key with `x5c` has 2 levels).
 * Deeper keys are refused before they are copied and frozen, which recurse.
 */
const MAX_KEY_NESTING = 32;

/** Private and symmetric members (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Signature algorithms per key type and curve (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864 §2.2). */
const RSA_SIG_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_CURVES: Readonly<Record<string, { alg: string; bytes: number }>> = {
  'P-256': { alg: 'ES256', bytes: 32 },
  'P-384': { alg: 'ES384', bytes: 48 },
  'P-521': { alg: 'ES512', bytes: 66 },
};
const OKP_SIG_CURVES: Readonly<Record<string, { algs: readonly string[]; bytes: number }>> = {
  Ed25519: { algs: ['EdDSA', 'Ed25519'], bytes: 32 },
  Ed448: { algs: ['EdDSA', 'Ed448'], bytes: 57 },
};
/** OKP curves, signature and key agreement (RFC 8037 §2). */
const OKP_CURVES = new Set(['Ed25519', 'Ed448', 'X25519', 'X448']);
/** Every signature algorithm name: one of these on the wrong key type is an inconsistency. */
const SIGNATURE_ALGS = new Set([
  ...RSA_SIG_ALGS,
  'ES256',
  'ES384',
  'ES512',
  'ES256K',
  'EdDSA',
  'Ed25519',
  'Ed448',
  'HS256',
  'HS384',
  'HS512',
  'none',
]);

/** A key the set may carry but that cannot verify signatures here (RFC 7517 §5: ignorable). */
class UnusableKey {
  constructor(readonly problem: string) {}
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function base64urlBytes(value: unknown, member: string): Buffer {
  if (
    typeof value !== 'string' ||
    value === '' ||
    !BASE64URL.test(value) ||
    value.length % 4 === 1
  ) {
    throw new Error(`"${member}" must be a non-empty base64url string`);
  }
  return Buffer.from(value, 'base64url');
}

function bitLength(bytes: Buffer): number {
  const start = bytes.findIndex((b) => b !== 0);
  if (start < 0) return 0;
  return (bytes.length - start) * 8 - (Math.clz32(bytes[start]!) - 24);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether `value` holds more than `maxDepth` levels of arrays/objects, checked iteratively so
 * hostile input cannot exhaust the stack. Shared with the HTTP layer's DTO validation.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return true;
    for (const member of Object.values(current)) pending.push([member, depth + 1]);
  }
  return false;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/**
 * Checks one key; returns an {@link UnusableKey} for a well-formed key that cannot verify
 * signatures here, throws `Error(problem)` for a key that is unsafe or malformed.
 */
function checkKey(key: Record<string, unknown>): UnusableKey | undefined {
  const { kty, use, alg, kid } = key;
  if (typeof kty !== 'string' || kty === '') throw new Error('"kty" must be a non-empty string');
  // SPEC S3, RFC 7517 §9.2: a public key set never carries private or symmetric key material.
  for (const member of PRIVATE_MEMBERS) {
    if (Object.hasOwn(key, member))
      throw new Error(`holds the private member "${member}"; only public keys are accepted`);
  }
  if (kty === 'oct') throw new Error('is a symmetric ("oct") key; only public keys are accepted');
  if (kid !== undefined && (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH)) {
    throw new Error(`"kid" must be a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  if (use !== undefined && typeof use !== 'string') throw new Error('"use" must be a string');
  if (alg !== undefined && (typeof alg !== 'string' || alg === '')) {
    throw new Error('"alg" must be a non-empty string');
  }
  const keyOps = key.key_ops;
  if (
    keyOps !== undefined &&
    (!Array.isArray(keyOps) || !keyOps.every((op) => typeof op === 'string'))
  ) {
    throw new Error('"key_ops" must be an array of strings');
  }

  // RFC 7517 §4.2–4.3: keys published for another purpose are not signature keys.
  if (use !== undefined && use !== 'sig') return new UnusableKey(`"use" is "${use}", not "sig"`);
  if (Array.isArray(keyOps) && !keyOps.includes('verify')) {
    return new UnusableKey('"key_ops" does not include "verify"');
  }

  switch (kty) {
    case 'RSA': {
      const algProblem = checkAlg(alg, RSA_SIG_ALGS, 'RSA');
      if (algProblem) return algProblem;
      const n = base64urlBytes(key.n, 'n');
      const e = base64urlBytes(key.e, 'e');
      const bits = bitLength(n);
      // RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used.
      if (bits < MIN_RSA_BITS) {
        throw new Error(`RSA modulus is ${bits} bits; at least ${MIN_RSA_BITS} are required`);
      }
      if (bits > MAX_RSA_BITS) {
        throw new Error(`RSA modulus is ${bits} bits; at most ${MAX_RSA_BITS} are accepted`);
      }
      if (e.length > 8 || bitLength(e) < 2 || (e[e.length - 1]! & 1) === 0) {
        throw new Error('RSA exponent "e" is not an odd integer of at most 64 bits');
      }
      return undefined;
    }
    case 'EC': {
      const { crv } = key;
      if (typeof crv !== 'string') throw new Error('EC key needs a string "crv"');
      const curve = EC_CURVES[crv];
      if (OKP_CURVES.has(crv)) throw new Error(`curve "${crv}" belongs to kty "OKP", not "EC"`);
      // RFC 7518 §6.2.1.1: P-256, P-384, P-521; others (secp256k1, …) are not supported here.
      if (!curve) return new UnusableKey(`EC curve "${crv}" is not supported`);
      const algProblem = checkAlg(alg, [curve.alg], `EC ${crv}`);
      if (algProblem) return algProblem;
      for (const member of ['x', 'y']) {
        if (base64urlBytes(key[member], member).length !== curve.bytes) {
          throw new Error(`"${member}" must be ${curve.bytes} bytes for ${crv}`);
        }
      }
      return undefined;
    }
    case 'OKP': {
      const { crv } = key;
      if (typeof crv !== 'string') throw new Error('OKP key needs a string "crv"');
      const curve = OKP_SIG_CURVES[crv];
      if (crv in EC_CURVES) throw new Error(`curve "${crv}" belongs to kty "EC", not "OKP"`);
      // RFC 8037 §2: X25519/X448 are key-agreement curves, not signature curves.
      if (!curve) return new UnusableKey(`OKP curve "${crv}" is not a supported signature curve`);
      const algProblem = checkAlg(alg, curve.algs, `OKP ${crv}`);
      if (algProblem) return algProblem;
      if (base64urlBytes(key.x, 'x').length !== curve.bytes) {
        throw new Error(`"x" must be ${curve.bytes} bytes for ${crv}`);
      }
      return undefined;
    }
    default:
      return new UnusableKey(`key type "${kty}" is not supported`);
  }
}

/**
 * RFC 7517 §4.4: `alg`, when present, must fit the key. A signature algorithm of another key type
 * is an inconsistency; any other name (encryption, unknown) makes the key unusable here.
 */
function checkAlg(
  alg: unknown,
  fitting: readonly string[],
  keyType: string,
): UnusableKey | undefined {
  if (alg === undefined || fitting.includes(alg as string)) return undefined;
  if (SIGNATURE_ALGS.has(alg as string)) {
    throw new Error(`"alg" ${alg as string} does not fit the key (${keyType})`);
  }
  return new UnusableKey(
    `"alg" ${String(alg)} is not a signature algorithm for the key (${keyType})`,
  );
}

function parseKey(
  value: unknown,
  index: number | undefined,
  ignoreUnusable: boolean,
): JWK | undefined {
  if (!isPlainObject(value)) throw new InvalidJwksError('must be a JSON object', { index });
  const kid = typeof value.kid === 'string' ? value.kid : undefined;
  if (nestsDeeperThan(value, MAX_KEY_NESTING)) {
    // A hostile set (a 64 KiB body nests thousands of levels) must not exhaust the stack.
    throw new InvalidJwksError(`nests arrays or objects more than ${MAX_KEY_NESTING} levels deep`, {
      index,
      kid,
    });
  }
  let unusable: UnusableKey | undefined;
  try {
    unusable = checkKey(value);
  } catch (error) {
    throw new InvalidJwksError((error as Error).message, { index, kid });
  }
  if (unusable) {
    if (ignoreUnusable) return undefined;
    throw new InvalidJwksError(unusable.problem, { index, kid });
  }
  return deepFreeze(structuredClone(value) as JWK);
}

/**
 * Validates one public JWK as a signature verification key (SPEC S3) and returns a frozen copy.
 * Throws {@link InvalidJwksError} naming the problem.
 */
export function parsePublicJwk(value: unknown): JWK {
  return parseKey(value, undefined, false)!;
}

/**
 * Validates a JWK Set of public signature keys (RFC 7517 §5, SPEC S3, S6) and returns its keys,
 * deep-frozen copies in a frozen array:
 * - an object with a `keys` array of at most `maxKeys` objects;
 * - each key with a string `kty`; no private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`,
 *   `k`), no `oct` keys;
 * - RSA: base64url `n`/`e`, modulus ≥ 2048 bits (RFC 7518 §3.3); EC: `crv` P-256/P-384/P-521 with
 *   coordinates of the curve's size; OKP: Ed25519/Ed448 with `x` of the curve's size;
 * - `alg`, when present, fits `kty`/`crv`; `use`, when present, is `sig`; `key_ops`, when
 *   present, includes `verify` (see {@link ParseJwksOptions.ignoreUnusableKeys});
 * - `kid`s unique (RFC 7517 §4.5).
 * Throws {@link InvalidJwksError} whose message names the key (`keys[2] (kid "a"): …`).
 *
 * @example
 * ```ts
 * const keys = parseJwks(JSON.parse(body), { ignoreUnusableKeys: true });
 * ```
 */
export function parseJwks(value: unknown, options: ParseJwksOptions = {}): readonly JWK[] {
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_JWKS_KEYS;
  const minKeys = options.minKeys ?? 0;
  if (!isPlainObject(value) || !Array.isArray(value.keys)) {
    throw new InvalidJwksError('a JWK Set must be an object with a "keys" array (RFC 7517 §5)');
  }
  const raw: unknown[] = value.keys;
  if (raw.length > maxKeys) {
    throw new InvalidJwksError(`the set holds ${raw.length} keys; at most ${maxKeys} are accepted`);
  }
  const keys: JWK[] = [];
  const kids = new Map<string, number>();
  raw.forEach((entry, index) => {
    const key = parseKey(entry, index, options.ignoreUnusableKeys ?? false);
    if (!key) return;
    if (key.kid !== undefined) {
      const first = kids.get(key.kid);
      if (first !== undefined) {
        throw new InvalidJwksError(`duplicates the kid of keys[${first}]`, {
          index,
          kid: key.kid,
        });
      }
      kids.set(key.kid, index);
    }
    keys.push(key);
  });
  if (keys.length < minKeys) {
    throw new InvalidJwksError(
      `the set holds ${keys.length} usable key${keys.length === 1 ? '' : 's'}; at least ${minKeys} required`,
    );
  }
  return Object.freeze(keys);
}
