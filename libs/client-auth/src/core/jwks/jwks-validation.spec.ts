import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it, expect } from '@jest/globals';
import type { JWK } from 'jose';
import { InvalidJwksError, JwksFetchError } from './jwks-errors.js';
import { parseJwks, parsePublicJwk } from './jwks-validation.js';

const jwkOf = (key: KeyObject) => key.export({ format: 'jwk' }) as JWK;

const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa = { ...jwkOf(rsaPair.publicKey), kid: 'rsa', alg: 'RS256', use: 'sig' };
const rsaPrivate = { ...jwkOf(rsaPair.privateKey), kid: 'rsa' };
const rsa1024 = {
  ...jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
  kid: 'weak',
};
const p256 = {
  ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
  kid: 'p256',
};
const p384 = {
  ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey),
  kid: 'p384',
};
const p521 = {
  ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey),
  kid: 'p521',
};
const p256Private = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const ed25519 = { ...jwkOf(generateKeyPairSync('ed25519').publicKey), kid: 'ed', alg: 'EdDSA' };
const ed448 = { ...jwkOf(generateKeyPairSync('ed448').publicKey), kid: 'ed448' };
const x25519 = { ...jwkOf(generateKeyPairSync('x25519').publicKey), kid: 'x' };

function invalid(value: unknown, options?: Parameters<typeof parseJwks>[1]): InvalidJwksError {
  try {
    parseJwks(value, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidJwksError);
    expect(error).toBeInstanceOf(JwksFetchError);
    expect((error as InvalidJwksError).reason).toBe('invalid_jwks');
    return error as InvalidJwksError;
  }
  throw new Error('expected the set to be refused');
}

describe('parseJwks', () => {
  it('accepts public signature keys of every supported type and returns frozen copies', () => {
    const input = { keys: [rsa, p256, p384, p521, ed25519, ed448, { ...p256, kid: undefined }] };
    delete input.keys[6]!.kid;
    const keys = parseJwks(input);
    expect(keys).toEqual(input.keys);
    expect(Object.isFrozen(keys)).toBe(true);
    for (const [i, key] of keys.entries()) {
      expect(Object.isFrozen(key)).toBe(true);
      expect(key).not.toBe(input.keys[i]);
    }
    expect(Object.isFrozen(input.keys[0])).toBe(false);
  });

  it('accepts an empty set unless minKeys asks for more', () => {
    expect(parseJwks({ keys: [] })).toEqual([]);
    expect(invalid({ keys: [] }, { minKeys: 1 }).message).toBe(
      'the set holds 0 usable keys; at least 1 required',
    );
  });

  it('accepts key_ops with verify and deep-freezes array members', () => {
    const [key] = parseJwks({ keys: [{ ...p256, key_ops: ['verify'] }] });
    expect(Object.isFrozen(key!.key_ops)).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'keys', 'a JWK Set must be an object with a "keys" array (RFC 7517 §5)'],
    ['null', null, 'a JWK Set must be an object with a "keys" array (RFC 7517 §5)'],
    ['keys not an array', { keys: {} }, 'a JWK Set must be an object with a "keys" array'],
    ['a key that is not an object', { keys: ['x'] }, 'keys[0]: must be a JSON object'],
    ['a key that is an array', { keys: [[]] }, 'keys[0]: must be a JSON object'],
    ['a key without kty', { keys: [{ n: 'AQAB' }] }, 'keys[0]: "kty" must be a non-empty string'],
    [
      'an RSA private key',
      { keys: [p256, rsaPrivate] },
      'keys[1] (kid "rsa"): holds the private member "d"; only public keys are accepted',
    ],
    ['an EC private key', { keys: [p256Private] }, 'keys[0]: holds the private member "d"'],
    ['an oct key with k', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, 'private member "k"'],
    ['an oct key without k', { keys: [{ kty: 'oct' }] }, 'is a symmetric ("oct") key'],
    ['an RSA key with only "p"', { keys: [{ ...rsa, p: 'AQAB' }] }, 'private member "p"'],
    [
      'an RSA 1024 key',
      { keys: [rsa1024] },
      'keys[0] (kid "weak"): RSA modulus is 1024 bits; at least 2048 are required',
    ],
    ['a malformed modulus', { keys: [{ ...rsa, n: 'a+b/' }] }, '"n" must be a non-empty base64url'],
    [
      'a missing exponent',
      { keys: [{ ...rsa, e: undefined }] },
      '"e" must be a non-empty base64url',
    ],
    [
      'an even exponent',
      { keys: [{ ...rsa, e: 'AAI' }] },
      'RSA exponent "e" is not an odd integer',
    ],
    ['an EC key without y', { keys: [{ ...p256, y: undefined }] }, '"y" must be a non-empty'],
    ['P-256 with P-384 coordinates', { keys: [{ ...p384, crv: 'P-256' }] }, '"x" must be 32 bytes'],
    [
      'an EC key without crv',
      { keys: [{ ...p256, crv: undefined }] },
      'EC key needs a string "crv"',
    ],
    ['EC with an OKP curve', { keys: [{ ...p256, crv: 'Ed25519' }] }, 'belongs to kty "OKP"'],
    ['OKP with an EC curve', { keys: [{ ...ed25519, crv: 'P-256' }] }, 'belongs to kty "EC"'],
    ['Ed25519 with a short x', { keys: [{ ...ed25519, x: 'AAAA' }] }, '"x" must be 32 bytes'],
    ['RS256 on an EC key', { keys: [{ ...p256, alg: 'RS256' }] }, '"alg" RS256 does not fit'],
    [
      'ES384 on P-256',
      { keys: [{ ...p256, alg: 'ES384' }] },
      '"alg" ES384 does not fit the key (EC P-256)',
    ],
    ['ES512 on P-384', { keys: [{ ...p384, alg: 'ES512' }] }, '"alg" ES512 does not fit'],
    [
      'EdDSA on RSA',
      { keys: [{ ...rsa, alg: 'EdDSA' }] },
      '"alg" EdDSA does not fit the key (RSA)',
    ],
    ['HS256 on RSA', { keys: [{ ...rsa, alg: 'HS256' }] }, '"alg" HS256 does not fit'],
    ['none on EC', { keys: [{ ...p256, alg: 'none' }] }, '"alg" none does not fit'],
    ['Ed448 alg on Ed25519', { keys: [{ ...ed25519, alg: 'Ed448' }] }, '"alg" Ed448 does not fit'],
    ['a numeric kid', { keys: [{ ...p256, kid: 7 }] }, '"kid" must be a string'],
    ['an empty kid', { keys: [{ ...p256, kid: '' }] }, '"kid" must be a string'],
    ['a numeric use', { keys: [{ ...p256, use: 1 }] }, '"use" must be a string'],
    [
      'key_ops not an array',
      { keys: [{ ...p256, key_ops: 'verify' }] },
      '"key_ops" must be an array',
    ],
    [
      'duplicate kids',
      { keys: [p256, { ...p384, kid: 'p256' }] },
      'keys[1] (kid "p256"): duplicates the kid of keys[0]',
    ],
  ])('refuses %s', (_label, value, message) => {
    const error = invalid(value);
    expect(error.message).toContain(message);
    // Unsafe or malformed keys are refused even where unusable keys are skipped.
    expect(invalid(value, { ignoreUnusableKeys: true }).message).toBe(error.message);
  });

  it('caps the number of keys', () => {
    expect(invalid({ keys: [p256, p384, p521] }, { maxKeys: 2 }).message).toBe(
      'the set holds 3 keys; at most 2 are accepted',
    );
    const many = Array.from({ length: 101 }, (_, i) => ({ ...p256, kid: `k${i}` }));
    expect(invalid({ keys: many }).message).toContain('at most 100');
  });

  it('records the index of the offending key', () => {
    expect(invalid({ keys: [p256, p384, rsa1024] }).keyIndex).toBe(2);
    expect(invalid({ keys: 'x' }).keyIndex).toBeUndefined();
  });

  it('does not echo key material in messages', () => {
    const message = invalid({ keys: [rsaPrivate] }).message;
    expect(message).not.toContain(rsaPrivate.d as string);
    expect(message).not.toContain(rsaPrivate.n as string);
  });

  describe.each<[string, object, string]>([
    ['an encryption key', { ...rsa, use: 'enc' }, '"use" is "enc", not "sig"'],
    ['key_ops without verify', { ...p256, key_ops: ['encrypt'] }, '"key_ops" does not include'],
    ['an encryption alg', { ...rsa, alg: 'RSA-OAEP' }, '"alg" RSA-OAEP is not a signature'],
    ['ECDH-ES on P-256', { ...p256, alg: 'ECDH-ES' }, '"alg" ECDH-ES is not a signature'],
    ['an unknown kty', { kty: 'AKP', alg: 'ML-DSA-44', pub: 'AAAA', kid: 'pq' }, 'key type "AKP"'],
    ['secp256k1', { ...p256, crv: 'secp256k1' }, 'EC curve "secp256k1" is not supported'],
    ['an X25519 key', x25519, 'OKP curve "X25519" is not a supported signature curve'],
  ])('%s', (_label, key, message) => {
    it('is refused by default (registrations)', () => {
      expect(invalid({ keys: [p256, key] }).message).toContain(`keys[1]`);
      expect(invalid({ keys: [p256, key] }).message).toContain(message);
    });

    it('is skipped with ignoreUnusableKeys (RFC 7517 §5, fetched sets)', () => {
      expect(parseJwks({ keys: [p256, key] }, { ignoreUnusableKeys: true })).toEqual([p256]);
    });
  });

  it('skipped keys do not count as duplicates', () => {
    const enc = { ...p256, kid: 'p256', use: 'enc' };
    expect(parseJwks({ keys: [p256, enc] }, { ignoreUnusableKeys: true })).toEqual([p256]);
  });
});

describe('parsePublicJwk', () => {
  it('returns a frozen copy of a valid key', () => {
    const key = parsePublicJwk(p256);
    expect(key).toEqual(p256);
    expect(Object.isFrozen(key)).toBe(true);
  });

  it('names the lone key without an index', () => {
    expect(() => parsePublicJwk(rsa1024)).toThrow(
      'key (kid "weak"): RSA modulus is 1024 bits; at least 2048 are required',
    );
    expect(() => parsePublicJwk({ ...rsa, use: 'enc' })).toThrow(InvalidJwksError);
  });
});
