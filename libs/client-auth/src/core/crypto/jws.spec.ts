import { createHmac, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { compactVerify, exportJWK, type JWK, SignJWT } from 'jose';
import { hmacKeyObject, publicKeyObject, signCompactJws, verifyJwsSignature } from './jws.js';

/** The signing input and signature of a compact JWS. */
function parts(jws: string): [Buffer, Buffer] {
  const dot = jws.lastIndexOf('.');
  return [Buffer.from(jws.slice(0, dot), 'ascii'), Buffer.from(jws.slice(dot + 1), 'base64url')];
}

const PAIRS = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  ed25519: generateKeyPairSync('ed25519'),
};

const CASES: [string, keyof typeof PAIRS][] = [
  ['RS256', 'rsa'],
  ['RS384', 'rsa'],
  ['RS512', 'rsa'],
  ['PS256', 'rsa'],
  ['PS384', 'rsa'],
  ['PS512', 'rsa'],
  ['ES256', 'p256'],
  ['ES384', 'p384'],
  ['ES512', 'p521'],
  ['EdDSA', 'ed25519'],
  ['Ed25519', 'ed25519'],
];

async function publicJwk(key: KeyObject): Promise<JWK> {
  return exportJWK(key);
}

describe('verifyJwsSignature / signCompactJws (RFC 7515, RFC 7518 §3)', () => {
  it.each(CASES)(
    '%s: verifies what jose signs, and jose verifies what it signs',
    async (alg, pair) => {
      const { privateKey, publicKey } = PAIRS[pair];
      const byJose = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg }).sign(privateKey);
      const key = publicKeyObject(await publicJwk(publicKey), alg);
      expect(verifyJwsSignature(alg, key, ...parts(byJose))).toBe(true);

      const ours = signCompactJws(alg, privateKey, { kid: 'k' }, { sub: 'y' });
      const { payload, protectedHeader } = await compactVerify(ours, publicKey, {
        algorithms: [alg],
      });
      expect(JSON.parse(Buffer.from(payload).toString('utf8'))).toEqual({ sub: 'y' });
      expect(protectedHeader).toEqual({ kid: 'k', alg });
    },
  );

  it.each(CASES)(
    '%s: refuses a tampered payload and a flipped signature bit',
    async (alg, pair) => {
      const { privateKey, publicKey } = PAIRS[pair];
      const jws = signCompactJws(alg, privateKey, {}, { sub: 'a' });
      const key = publicKeyObject(await publicJwk(publicKey), alg);
      const [input, signature] = parts(jws);
      const tampered = Buffer.from(input.toString('ascii').replace(/\.[^.]+$/, '.eyJzdWIiOiJiIn0'));
      expect(verifyJwsSignature(alg, key, tampered, signature)).toBe(false);
      const flipped = Buffer.from(signature);
      flipped[0] = flipped[0]! ^ 1;
      expect(verifyJwsSignature(alg, key, input, flipped)).toBe(false);
    },
  );

  it('refuses a key of another type than the algorithm names', async () => {
    const jws = signCompactJws('ES256', PAIRS.p256.privateKey, {}, { sub: 'a' });
    const [input, signature] = parts(jws);
    // The same bytes checked as RS256 with an RSA key, and as ES256 with an RSA or Ed25519 key.
    expect(verifyJwsSignature('RS256', PAIRS.rsa.publicKey, input, signature)).toBe(false);
    expect(verifyJwsSignature('ES256', PAIRS.rsa.publicKey, input, signature)).toBe(false);
    expect(verifyJwsSignature('ES256', PAIRS.ed25519.publicKey, input, signature)).toBe(false);
    expect(verifyJwsSignature('Ed448', PAIRS.ed25519.publicKey, input, signature)).toBe(false);
  });

  it('refuses an ECDSA signature that is not the fixed-size R‖S form (RFC 7518 §3.4)', () => {
    const jws = signCompactJws('ES256', PAIRS.p256.privateKey, {}, { sub: 'a' });
    const [input, signature] = parts(jws);
    expect(verifyJwsSignature('ES256', PAIRS.p256.publicKey, input, signature)).toBe(true);
    expect(
      verifyJwsSignature(
        'ES256',
        PAIRS.p256.publicKey,
        input,
        Buffer.concat([signature, Buffer.of(0)]),
      ),
    ).toBe(false);
    expect(verifyJwsSignature('ES256', PAIRS.p256.publicKey, input, signature.subarray(1))).toBe(
      false,
    );
  });

  it('never accepts none, an unknown algorithm or an empty signature', () => {
    const [input] = parts(signCompactJws('ES256', PAIRS.p256.privateKey, {}, {}));
    for (const alg of ['none', 'HS1', 'ES257', '']) {
      expect(verifyJwsSignature(alg, PAIRS.p256.publicKey, input, Buffer.alloc(64))).toBe(false);
    }
    expect(verifyJwsSignature('ES256', PAIRS.p256.publicKey, input, Buffer.alloc(0))).toBe(false);
  });

  it('HMAC: verifies the right secret in constant time and refuses another or an asymmetric key', () => {
    const secret = 's'.repeat(32);
    const owner = {};
    const key = hmacKeyObject(owner, secret, 'HS256');
    expect(hmacKeyObject(owner, secret, 'HS256')).toBe(key); // imported once per owner and alg
    const input = Buffer.from('eyJhbGciOiJIUzI1NiJ9.e30', 'ascii');
    // Computed independently of the module under test.
    const mac = (k: KeyObject) => createHmac('sha256', k.export()).update(input).digest();
    expect(verifyJwsSignature('HS256', key, input, mac(key))).toBe(true);
    expect(
      verifyJwsSignature('HS256', key, input, mac(createSecretKey(Buffer.from('t'.repeat(32))))),
    ).toBe(false);
    expect(verifyJwsSignature('HS256', PAIRS.p256.publicKey, input, mac(key))).toBe(false);
    expect(verifyJwsSignature('HS256', key, input, mac(key).subarray(1))).toBe(false);
    expect(() => hmacKeyObject({}, secret, 'RS256')).toThrow(TypeError);
  });

  it('imports only the public members of a JWK, once per JWK object and algorithm', async () => {
    const jwk = { ...(await exportJWK(PAIRS.p256.privateKey)) };
    const key = publicKeyObject(jwk, 'ES256');
    expect(key.type).toBe('public');
    expect(publicKeyObject(jwk, 'ES256')).toBe(key);
  });

  it('signCompactJws refuses HMAC and unknown algorithms', () => {
    expect(() => signCompactJws('HS256', PAIRS.p256.privateKey, {}, {})).toThrow(TypeError);
    expect(() => signCompactJws('none', PAIRS.p256.privateKey, {}, {})).toThrow(TypeError);
  });
});
