import { describe, expect, it } from '@jest/globals';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  webcrypto,
  type JsonWebKey,
} from 'node:crypto';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { ISSUER, NOW } from '../../../../../test/fixtures/keys/helpers.js';
import { fixtureKey, type FixtureAlg } from '../../../../../test/fixtures/keys/index.js';
import { ClientAuthConfigurationError, SigningKeyError } from '../outgoing/outgoing-errors.js';
import { derToJoseSignature, normalizeEcdsaSignature } from './ecdsa-signature.js';
import { signClientAssertion } from './sign-client-assertion.js';
import { createSigningKeySource } from './signing-key-input.js';
import {
  callbackSigningKey,
  importPrivateSigningKey,
  importSecretSigningKey,
  type AssertionSigningKey,
} from './signing-key.js';

const pemOf = (fixture: FixtureAlg): string =>
  createPrivateKey({ key: fixtureKey(fixture).privateJwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

async function verifies(assertion: string, publicJwk: JWK, alg: string): Promise<boolean> {
  const { d: _d, ...pub } = publicJwk;
  try {
    await compactVerify(assertion, await importJWK({ ...pub, alg }, alg));
    return true;
  } catch {
    return false;
  }
}

const sign = (key: AssertionSigningKey) =>
  signClientAssertion({ clientId: 'svc', audience: ISSUER, key, now: NOW });

describe('importPrivateSigningKey', () => {
  it.each([
    ['RS256', 'RS256'],
    ['ES256', 'ES256'],
    ['ES384', 'ES384'],
    ['ES512', 'ES512'],
    ['EdDSA', 'EdDSA'],
  ] as const)('infers %s from a PKCS#8 PEM of that key type', async (fixture, alg) => {
    const key = importPrivateSigningKey(pemOf(fixture), { kid: 'pem-key' });
    expect(key).toMatchObject({ alg, kid: 'pem-key', method: 'private_key_jwt' });
    expect(await verifies(await sign(key), fixtureKey(fixture).publicJwk, alg)).toBe(true);
  });

  it('signs PS256 with an RSA PEM when asked, with an encrypted PEM and its passphrase', async () => {
    const rsa = createPrivateKey({
      key: fixtureKey('PS256').privateJwk as JsonWebKey,
      format: 'jwk',
    });
    const encrypted = rsa
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    const key = importPrivateSigningKey(encrypted, { alg: 'PS256', passphrase: 'pw' });
    expect(await verifies(await sign(key), fixtureKey('PS256').publicJwk, 'PS256')).toBe(true);
    expect(() => importPrivateSigningKey(encrypted, { alg: 'PS256' })).toThrow(SigningKeyError);
  });

  it('takes alg and kid from a JWK; options fill in only what the key lacks', () => {
    const fx = fixtureKey('ES384');
    expect(importPrivateSigningKey(fx.privateJwk, { kid: 'other' })).toMatchObject({
      alg: 'ES384',
      kid: fx.kid,
    });
    const { kid: _kid, alg: _alg, ...bare } = fx.privateJwk;
    expect(importPrivateSigningKey(bare, { kid: 'given' })).toMatchObject({
      alg: 'ES384',
      kid: 'given',
    });
  });

  it('accepts node:crypto KeyObjects and WebCrypto CryptoKeys', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const fromKeyObject = importPrivateSigningKey(privateKey);
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
    expect(await verifies(await sign(fromKeyObject), publicJwk, 'ES256')).toBe(true);

    const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const fromCryptoKey = importPrivateSigningKey(pair.privateKey);
    expect(fromCryptoKey.alg).toBe('EdDSA');
    const edJwk = (await webcrypto.subtle.exportKey('jwk', pair.publicKey)) as JWK;
    expect(await verifies(await sign(fromCryptoKey), edJwk, 'EdDSA')).toBe(true);
  });

  it.each([
    [
      'a public JWK',
      () => importPrivateSigningKey(fixtureKey('ES256').publicJwk),
      /no private part/,
    ],
    ['a symmetric JWK', () => importPrivateSigningKey({ kty: 'oct', k: 'AAAA' }), /symmetric/],
    [
      'an encryption-only JWK',
      () => importPrivateSigningKey({ ...fixtureKey('ES256').privateJwk, use: 'enc' }),
      /use/,
    ],
    [
      'key_ops without sign',
      () => importPrivateSigningKey({ ...fixtureKey('ES256').privateJwk, key_ops: ['verify'] }),
      /key_ops/,
    ],
    [
      'a JWK bound to another alg',
      () => importPrivateSigningKey(fixtureKey('ES256').privateJwk, { alg: 'ES384' }),
      /bound to ES256/,
    ],
    [
      'an EC key for another curve',
      () => importPrivateSigningKey(pemOf('ES256'), { alg: 'ES512' }),
      /cannot sign ES512/,
    ],
    [
      'an RSA key for ECDSA',
      () => importPrivateSigningKey(pemOf('RS256'), { alg: 'ES256' }),
      /cannot sign ES256/,
    ],
    [
      'an RSA key below 2048 bits',
      () => importPrivateSigningKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey),
      /1024 bits cannot sign RS256/,
    ],
    [
      'an HMAC alg for a private key',
      () => importPrivateSigningKey(pemOf('ES256'), { alg: 'HS256' }),
      /not a private_key_jwt algorithm/,
    ],
    [
      'alg none',
      () => importPrivateSigningKey(pemOf('ES256'), { alg: 'none' }),
      /not a private_key_jwt/,
    ],
    [
      'a public key PEM',
      () =>
        importPrivateSigningKey(
          createPublicKey(createPrivateKey(pemOf('ES256')))
            .export({ type: 'spki', format: 'pem' })
            .toString(),
        ),
      /PEM is not a readable private key/,
    ],
    [
      'an unsupported curve',
      () =>
        importPrivateSigningKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey),
      /secp256k1 is not supported/,
    ],
    [
      'an X25519 key',
      () => importPrivateSigningKey(generateKeyPairSync('x25519').privateKey),
      /x25519/,
    ],
  ])('refuses %s', (_name, run, message) => {
    let error: unknown;
    try {
      run();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SigningKeyError);
    expect((error as SigningKeyError).code).toBe('key_invalid');
    expect((error as Error).message).toMatch(message);
  });

  it('never puts key material in an error message', () => {
    const jwk = { ...fixtureKey('ES256').privateJwk, use: 'enc' };
    try {
      importPrivateSigningKey(jwk);
    } catch (error) {
      expect((error as Error).message).not.toContain(jwk.d);
    }
  });
});

describe('importSecretSigningKey', () => {
  it.each([
    ['HS256', 31],
    ['HS384', 47],
    ['HS512', 63],
  ])('refuses a %s secret of %i bytes (RFC 7518 §3.2)', (alg, bytes) => {
    expect(() => importSecretSigningKey('s'.repeat(bytes), { alg })).toThrow(/RFC 7518 §3.2/);
    expect(importSecretSigningKey('s'.repeat(bytes + 1), { alg }).method).toBe('client_secret_jwt');
  });

  it('refuses a non-HMAC algorithm', () => {
    expect(() => importSecretSigningKey('s'.repeat(64), { alg: 'RS256' })).toThrow(SigningKeyError);
  });

  it('keys the HMAC with the UTF-8 bytes of the secret', async () => {
    const secret = 'é'.repeat(16); // 32 bytes, 16 characters
    const assertion = await sign(importSecretSigningKey(secret));
    await compactVerify(assertion, new TextEncoder().encode(secret));
  });
});

describe('callbackSigningKey (KMS/HSM)', () => {
  // The key lives in this closure only, as it would inside a KMS: the library never sees it.
  function remoteEcKey(curve: string, der: boolean) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    const hash = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' }[curve]!;
    const inputs: Uint8Array[] = [];
    const signer = (input: Uint8Array) => {
      inputs.push(input);
      return cryptoSign(hash, input, {
        key: privateKey,
        dsaEncoding: der ? 'der' : 'ieee-p1363',
      });
    };
    return { signer, inputs, publicJwk: publicKey.export({ format: 'jwk' }) as JWK };
  }

  it.each([
    ['ES256', 'P-256', false],
    ['ES256', 'P-256', true],
    ['ES384', 'P-384', true],
    ['ES512', 'P-521', true],
    ['ES512', 'P-521', false],
  ])('%s on %s (DER: %s): the library signs through the callback', async (alg, curve, der) => {
    const remote = remoteEcKey(curve, der);
    const key = callbackSigningKey({ alg, kid: 'kms-1', sign: remote.signer });
    const assertion = await sign(key);
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg, kid: 'kms-1' });
    expect(await verifies(assertion, remote.publicJwk, alg)).toBe(true);
    // The callback received exactly the JWS Signing Input (RFC 7515 §5.1).
    const [h, p] = assertion.split('.');
    expect(Buffer.from(remote.inputs[0]!).toString('ascii')).toBe(`${h}.${p}`);
  });

  it('signs RS256 and EdDSA through a callback holding a WebCrypto key', async () => {
    const pair = (await webcrypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
    const key = callbackSigningKey({
      alg: 'RS256',
      sign: (input) => webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, input),
    });
    const jwk = (await webcrypto.subtle.exportKey('jwk', pair.publicKey)) as JWK;
    expect(await verifies(await sign(key), jwk, 'RS256')).toBe(true);
  });

  it('reports a failing callback and refuses signatures of the wrong size', async () => {
    const failing = callbackSigningKey({
      alg: 'ES256',
      sign: () => Promise.reject(new Error('KMS throttled')),
    });
    await expect(sign(failing)).rejects.toMatchObject({
      code: 'signing_failed',
      message: 'the signing callback failed',
    });
    const short = callbackSigningKey({ alg: 'RS256', sign: () => new Uint8Array(16) });
    await expect(sign(short)).rejects.toMatchObject({ code: 'signing_failed' });
    const hmac = callbackSigningKey({ alg: 'HS256', sign: () => new Uint8Array(31) });
    await expect(sign(hmac)).rejects.toMatchObject({ code: 'signing_failed' });
    const garbage = callbackSigningKey({ alg: 'ES256', sign: () => new Uint8Array(70).fill(7) });
    await expect(sign(garbage)).rejects.toMatchObject({ code: 'signing_failed' });
    const raw = callbackSigningKey({
      alg: 'ES256',
      signatureFormat: 'raw',
      sign: () => new Uint8Array(70),
    });
    await expect(sign(raw)).rejects.toThrow(/expected 64 bytes/);
  });

  it('refuses an unknown algorithm and a missing callback at construction', () => {
    expect(() => callbackSigningKey({ alg: 'none', sign: () => new Uint8Array() })).toThrow(
      ClientAuthConfigurationError,
    );
    expect(() =>
      callbackSigningKey({ alg: 'ES256', sign: undefined as unknown as () => Uint8Array }),
    ).toThrow(ClientAuthConfigurationError);
  });

  it('HS256 through a callback serves client_secret_jwt', () => {
    expect(callbackSigningKey({ alg: 'HS256', sign: () => new Uint8Array(32) }).method).toBe(
      'client_secret_jwt',
    );
  });
});

describe('ECDSA signature forms', () => {
  it('converts DER to R‖S with padding and without sign bytes', () => {
    // r = 0x00ff… (needs a sign byte in DER), s = 0x01 (short: must be left-padded).
    const r = Buffer.alloc(32, 0xff);
    const der = Buffer.concat([
      Buffer.from([0x30, 2 + 33 + 2 + 1, 0x02, 33, 0x00]),
      r,
      Buffer.from([0x02, 1, 0x01]),
    ]);
    const raw = derToJoseSignature(der, 'ES256');
    expect(raw).toHaveLength(64);
    expect(Buffer.from(raw.subarray(0, 32))).toEqual(r);
    expect([...raw.subarray(32, 63)].every((b) => b === 0)).toBe(true);
    expect(raw[63]).toBe(1);
  });

  it('reads the long length form used by P-521', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
    const der = cryptoSign('sha512', Buffer.from('x'), { key: privateKey, dsaEncoding: 'der' });
    expect(der[1]).toBe(0x81);
    expect(derToJoseSignature(der, 'ES512')).toHaveLength(132);
  });

  it.each([
    ['not a SEQUENCE', [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]],
    ['trailing bytes', [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00]],
    ['a negative integer', [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]],
    ['a non-minimal integer', [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]],
    [
      'an oversized integer',
      [0x30, 0x26, 0x02, 0x21, 0x01, ...new Array(32).fill(1), 0x02, 0x01, 0x01],
    ],
    ['a missing s', [0x30, 0x03, 0x02, 0x01, 0x01]],
  ])('refuses DER with %s', (_name, bytes) => {
    expect(() => derToJoseSignature(Uint8Array.from(bytes), 'ES256')).toThrow(SigningKeyError);
  });

  it('keeps a raw signature of the exact length as it is', () => {
    const raw = new Uint8Array(64).fill(0x30);
    expect(normalizeEcdsaSignature(raw, 'ES256')).toBe(raw);
    expect(() => normalizeEcdsaSignature(raw, 'ES256', 'der')).toThrow(SigningKeyError);
  });
});

describe('createSigningKeySource', () => {
  it('builds every form of SigningKeyInput', async () => {
    const fx = fixtureKey('ES256');
    const forms = [
      { jwk: fx.privateJwk },
      { pem: pemOf('ES256'), kid: fx.kid },
      { privateKey: createPrivateKey(pemOf('ES256')), kid: fx.kid },
      {
        alg: 'ES256',
        kid: fx.kid,
        sign: (input: Uint8Array) =>
          cryptoSign('sha256', input, {
            key: createPrivateKey(pemOf('ES256')),
            dsaEncoding: 'ieee-p1363',
          }),
      },
    ];
    for (const form of forms) {
      const key = await createSigningKeySource(form).current();
      expect(await verifies(await sign(key), fx.publicJwk, 'ES256')).toBe(true);
      expect(key.kid).toBe(fx.kid);
    }
    const secret = await createSigningKeySource({ secret: 'k'.repeat(48), alg: 'HS384' }).current();
    expect(secret).toMatchObject({ alg: 'HS384', method: 'client_secret_jwt' });
  });

  it('refuses anything else', () => {
    expect(() => createSigningKeySource({} as never)).toThrow(ClientAuthConfigurationError);
    expect(() => createSigningKeySource(null as never)).toThrow(ClientAuthConfigurationError);
  });
});
