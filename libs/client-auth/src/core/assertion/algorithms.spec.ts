import { describe, it, expect } from '@jest/globals';
import type { JWK } from 'jose';
import { fixtureKey, type FixtureAlg } from '../../../../../test/fixtures/keys/index.js';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
  algorithmNamesMatch,
  algorithmsFor,
  hashBitsFor,
  isAlgorithmAllowed,
  jwkFitsAlgorithm,
  methodForAlgorithm,
  minimumHmacSecretBytes,
} from './algorithms.js';

const publicJwk = (fixture: FixtureAlg): JWK => fixtureKey(fixture).publicJwk;
const withoutAlg = (fixture: FixtureAlg): JWK => {
  const { alg: _alg, ...jwk } = publicJwk(fixture);
  return jwk;
};

describe('algorithm sets (SPEC S2.4)', () => {
  it.each([
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
  ])('private_key_jwt accepts %s, client_secret_jwt does not', (alg) => {
    expect(isAlgorithmAllowed('private_key_jwt', alg)).toBe(true);
    expect(isAlgorithmAllowed('client_secret_jwt', alg)).toBe(false);
  });

  it.each(['HS256', 'HS384', 'HS512'])(
    'client_secret_jwt accepts %s, private_key_jwt does not',
    (alg) => {
      expect(isAlgorithmAllowed('client_secret_jwt', alg)).toBe(true);
      expect(isAlgorithmAllowed('private_key_jwt', alg)).toBe(false);
    },
  );

  it.each([
    'none',
    'None',
    'NONE',
    '',
    'rs256',
    'HS1',
    'ES256K',
    'Ed448',
    'RSA-OAEP',
    'ML-DSA-44',
    42,
    null,
    undefined,
  ])('no method accepts %p', (alg) => {
    expect(isAlgorithmAllowed('private_key_jwt', alg)).toBe(false);
    expect(isAlgorithmAllowed('client_secret_jwt', alg)).toBe(false);
  });

  it('lists the sets per method and freezes them', () => {
    expect(algorithmsFor('private_key_jwt')).toBe(PRIVATE_KEY_JWT_ALGORITHMS);
    expect(algorithmsFor('client_secret_jwt')).toBe(CLIENT_SECRET_JWT_ALGORITHMS);
    expect(Object.isFrozen(PRIVATE_KEY_JWT_ALGORITHMS)).toBe(true);
    expect(Object.isFrozen(CLIENT_SECRET_JWT_ALGORITHMS)).toBe(true);
  });

  it.each([
    ['HS256', 'client_secret_jwt'],
    ['HS384', 'client_secret_jwt'],
    ['HS512', 'client_secret_jwt'],
    ['RS256', 'private_key_jwt'],
    ['EdDSA', 'private_key_jwt'],
    ['none', 'private_key_jwt'],
    [undefined, 'private_key_jwt'],
  ])('methodForAlgorithm(%p) = %s', (alg, method) => {
    expect(methodForAlgorithm(alg)).toBe(method);
  });
});

describe('HMAC secret length (RFC 7518 §3.2)', () => {
  it.each([
    ['HS256', 32],
    ['HS384', 48],
    ['HS512', 64],
  ])('%s needs %i bytes', (alg, bytes) => {
    expect(minimumHmacSecretBytes(alg)).toBe(bytes);
  });

  it.each(['RS256', 'EdDSA', 'HS1'])('refuses a non-HMAC algorithm %s', (alg) => {
    expect(() => minimumHmacSecretBytes(alg)).toThrow(RangeError);
  });

  it.each([
    ['ES384', 384],
    ['PS512', 512],
    ['EdDSA', undefined],
  ])('hashBitsFor(%s) = %p', (alg, bits) => {
    expect(hashBitsFor(alg)).toBe(bits);
  });
});

describe('jwkFitsAlgorithm (SPEC S2.5)', () => {
  const families: readonly [string, FixtureAlg][] = [
    ['RS256', 'RS256'],
    ['RS384', 'RS384'],
    ['RS512', 'RS512'],
    ['PS256', 'PS256'],
    ['PS384', 'PS384'],
    ['PS512', 'PS512'],
    ['ES256', 'ES256'],
    ['ES384', 'ES384'],
    ['ES512', 'ES512'],
    ['EdDSA', 'EdDSA'],
    ['Ed25519', 'EdDSA'],
  ];

  it.each(families)('a key of the right type fits %s', (alg, fixture) => {
    expect(jwkFitsAlgorithm(withoutAlg(fixture), alg)).toBe(true);
  });

  it.each(families)('a key whose alg member names the algorithm fits %s', (alg, fixture) => {
    expect(jwkFitsAlgorithm(publicJwk(fixture), alg)).toBe(true);
  });

  it.each([
    ['RS256', 'ES256'],
    ['PS256', 'EdDSA'],
    ['ES256', 'RS256'],
    ['ES256', 'ES384'],
    ['ES384', 'ES512'],
    ['ES512', 'ES256'],
    ['EdDSA', 'ES256'],
    ['Ed25519', 'RS256'],
  ] as [string, FixtureAlg][])(
    'a key of the wrong kty or crv never fits %s (key from %s)',
    (alg, fixture) => {
      expect(jwkFitsAlgorithm(withoutAlg(fixture), alg)).toBe(false);
    },
  );

  it.each([
    ['PS256', 'RS256'],
    ['RS256', 'RS384'],
    ['RS512', 'PS512'],
  ] as [string, FixtureAlg][])(
    'an RSA key whose alg is set does not fit %s (key alg %s)',
    (alg, fixture) => {
      expect(jwkFitsAlgorithm(publicJwk(fixture), alg)).toBe(false);
    },
  );

  it('treats EdDSA and Ed25519 as one algorithm for the key alg member (RFC 9864)', () => {
    expect(algorithmNamesMatch('EdDSA', 'Ed25519')).toBe(true);
    expect(algorithmNamesMatch('Ed25519', 'EdDSA')).toBe(true);
    expect(algorithmNamesMatch('RS256', 'PS256')).toBe(false);
    expect(jwkFitsAlgorithm(publicJwk('EdDSA'), 'Ed25519')).toBe(true);
  });

  it('refuses HMAC algorithms and symmetric keys', () => {
    expect(jwkFitsAlgorithm({ kty: 'oct', k: 'c2VjcmV0' }, 'HS256')).toBe(false);
    expect(jwkFitsAlgorithm({ kty: 'oct', k: 'c2VjcmV0' }, 'RS256')).toBe(false);
    expect(jwkFitsAlgorithm(withoutAlg('RS256'), 'HS256')).toBe(false);
    expect(jwkFitsAlgorithm(withoutAlg('RS256'), 'none')).toBe(false);
  });

  it.each([
    [{ use: 'enc' }, false],
    [{ use: 'sig' }, true],
    [{ key_ops: ['encrypt'] }, false],
    [{ key_ops: ['verify'] }, true],
    [{ key_ops: 'verify' }, false],
  ])('honours use/key_ops %p → %p', (extra, fits) => {
    expect(jwkFitsAlgorithm({ ...withoutAlg('ES256'), ...extra } as JWK, 'ES256')).toBe(fits);
  });

  it('refuses RSA moduli under 2048 bits (RFC 7518 §3.3)', () => {
    const rsa = withoutAlg('RS256');
    const short = Buffer.from(rsa.n as string, 'base64url')
      .subarray(0, 128)
      .toString('base64url');
    expect(jwkFitsAlgorithm({ ...rsa, n: short }, 'RS256')).toBe(false);
    // A leading zero octet does not make a 2048-bit modulus longer or shorter.
    const padded = Buffer.concat([Buffer.alloc(1), Buffer.from(rsa.n as string, 'base64url')]);
    expect(jwkFitsAlgorithm({ ...rsa, n: padded.toString('base64url') }, 'RS256')).toBe(true);
    expect(jwkFitsAlgorithm({ ...rsa, n: undefined }, 'RS256')).toBe(false);
  });

  it('refuses an EC key without y and an OKP key on another curve', () => {
    expect(jwkFitsAlgorithm({ ...withoutAlg('ES256'), y: undefined }, 'ES256')).toBe(false);
    expect(jwkFitsAlgorithm({ ...withoutAlg('EdDSA'), crv: 'Ed448' }, 'EdDSA')).toBe(false);
  });
});
