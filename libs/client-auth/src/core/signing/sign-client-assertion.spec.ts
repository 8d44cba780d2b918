import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import {
  ASYMMETRIC_ALGS,
  FakeKeySets,
  HMAC_ALGS,
  ISSUER,
  NOW,
  NOW_S,
  TOKEN_ENDPOINT,
  client,
  keyCredential,
  secretCredential,
  secretOfLength,
} from '../../../../../test/fixtures/keys/helpers.js';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import { verifyClientAssertion } from '../assertion/verify-client-assertion.js';
import { ClientAuthConfigurationError, SigningKeyError } from '../outgoing/outgoing-errors.js';
import {
  CLIENT_AUTHENTICATION_JWT_TYP,
  resolveAssertionLifetime,
  signClientAssertion,
} from './sign-client-assertion.js';
import {
  importPrivateSigningKey,
  importSecretSigningKey,
  type AssertionSigningKey,
} from './signing-key.js';

const publicKeyFor = async (jwk: JWK, alg: string) => {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return importJWK(pub, alg);
};

describe('signClientAssertion', () => {
  it.each(ASYMMETRIC_ALGS)(
    '$alg: RFC 7523 §3 claims, verified by jose and by the library verifier',
    async ({ alg, fixture }) => {
      const fx = fixtureKey(fixture);
      const key = importPrivateSigningKey(fx.privateJwk);
      expect(key.alg).toBe(alg);
      const assertion = await signClientAssertion({
        clientId: 'svc',
        audience: ISSUER,
        key,
        now: NOW,
      });
      const header = decodeProtectedHeader(assertion);
      expect(header).toEqual({ alg, kid: fx.kid, typ: CLIENT_AUTHENTICATION_JWT_TYP });
      const { payload } = await jwtVerify(assertion, await publicKeyFor(fx.publicJwk, alg), {
        currentDate: NOW,
        issuer: 'svc',
        subject: 'svc',
        audience: ISSUER,
        typ: CLIENT_AUTHENTICATION_JWT_TYP,
      });
      expect(payload.iat).toBe(NOW_S);
      expect(payload.exp).toBe(NOW_S + 60);
      expect(Buffer.from(payload.jti!, 'base64url').length).toBeGreaterThanOrEqual(16);

      const verified = await verifyClientAssertion(
        assertion,
        client('svc', 'private_key_jwt', [keyCredential(fx.publicJwk)]),
        {
          settings: { issuer: ISSUER, audiencePolicy: 'strict' },
          keySets: new FakeKeySets([]),
          now: NOW,
        },
      );
      expect(verified).toMatchObject({ alg, kid: fx.kid, audienceForm: 'issuer' });
    },
  );

  it('signs with the fully specified Ed25519 algorithm name (RFC 9864)', async () => {
    const fx = fixtureKey('EdDSA');
    const key = importPrivateSigningKey(fx.privateJwk, { alg: 'Ed25519' });
    const assertion = await signClientAssertion({
      clientId: 'svc',
      audience: ISSUER,
      key,
      now: NOW,
    });
    expect(decodeProtectedHeader(assertion).alg).toBe('Ed25519');
    const verified = await verifyClientAssertion(
      assertion,
      client('svc', 'private_key_jwt', [keyCredential(fx.publicJwk)]),
      { settings: { issuer: ISSUER }, keySets: new FakeKeySets([]), now: NOW },
    );
    expect(verified.alg).toBe('Ed25519');
  });

  it.each(HMAC_ALGS)('$alg client_secret_jwt verifies with the secret', async ({ alg, bytes }) => {
    const secret = secretOfLength(bytes);
    const assertion = await signClientAssertion({
      clientId: 'hmac',
      audience: ISSUER,
      key: importSecretSigningKey(secret, { alg }),
      now: NOW,
    });
    expect(decodeProtectedHeader(assertion)).toEqual({ alg, typ: CLIENT_AUTHENTICATION_JWT_TYP });
    await jwtVerify(assertion, new TextEncoder().encode(secret), {
      currentDate: NOW,
      algorithms: [alg],
    });
    const verified = await verifyClientAssertion(
      assertion,
      client('hmac', 'client_secret_jwt', [secretCredential(secret)]),
      { settings: { issuer: ISSUER }, keySets: new FakeKeySets([]), now: NOW },
    );
    expect(verified.method).toBe('client_secret_jwt');
  });

  it('puts the token endpoint in aud on request, and typ can be turned off', async () => {
    const key = importPrivateSigningKey(fixtureKey('ES256').privateJwk);
    const assertion = await signClientAssertion({
      clientId: 'svc',
      audience: TOKEN_ENDPOINT,
      key,
      typ: false,
      now: NOW,
    });
    expect(decodeProtectedHeader(assertion).typ).toBeUndefined();
    expect(decodeJwt(assertion).aud).toBe(TOKEN_ENDPOINT);
    const both = await signClientAssertion({
      clientId: 'svc',
      audience: [ISSUER, TOKEN_ENDPOINT],
      key,
      now: NOW,
    });
    expect(decodeJwt(both).aud).toEqual([ISSUER, TOKEN_ENDPOINT]);
  });

  it('uses a fresh 192-bit jti for every assertion', async () => {
    const key = importPrivateSigningKey(fixtureKey('ES256').privateJwk);
    const jtis = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { jti } = decodeJwt(
        await signClientAssertion({ clientId: 's', audience: ISSUER, key }),
      );
      expect(Buffer.from(jti!, 'base64url')).toHaveLength(24);
      jtis.add(jti!);
    }
    expect(jtis.size).toBe(50);
  });

  it('honours lifetimeSeconds within the server cap', async () => {
    const key = importPrivateSigningKey(fixtureKey('ES256').privateJwk);
    const claims = decodeJwt(
      await signClientAssertion({
        clientId: 's',
        audience: ISSUER,
        key,
        lifetimeSeconds: 300,
        now: NOW,
      }),
    );
    expect(claims.exp! - claims.iat!).toBe(300);
    await expect(
      signClientAssertion({ clientId: 's', audience: ISSUER, key, lifetimeSeconds: 301 }),
    ).rejects.toBeInstanceOf(ClientAuthConfigurationError);
    expect(resolveAssertionLifetime(600, 900)).toBe(600);
    expect(resolveAssertionLifetime(undefined, 30)).toBe(30);
    expect(() => resolveAssertionLifetime(0, undefined)).toThrow(ClientAuthConfigurationError);
    expect(() => resolveAssertionLifetime(1.5, undefined)).toThrow(ClientAuthConfigurationError);
  });

  it('adds extra claims but never lets them override the registered ones', async () => {
    const key = importPrivateSigningKey(fixtureKey('ES256').privateJwk);
    const claims = decodeJwt(
      await signClientAssertion({ clientId: 's', audience: ISSUER, key, claims: { tenant: 't1' } }),
    );
    expect(claims.tenant).toBe('t1');
    for (const name of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti']) {
      await expect(
        signClientAssertion({ clientId: 's', audience: ISSUER, key, claims: { [name]: 'x' } }),
      ).rejects.toThrow(`claims may not set ${name}`);
    }
  });

  it.each([
    ['an empty client id', { clientId: '' }],
    ['an empty audience', { audience: '' }],
    ['an empty audience list', { audience: [] }],
    ['an empty typ', { typ: '' }],
    ['an empty jti', { jti: '' }],
  ])('refuses %s', async (_name, override) => {
    const key = importPrivateSigningKey(fixtureKey('ES256').privateJwk);
    await expect(
      signClientAssertion({ clientId: 's', audience: ISSUER, key, ...override }),
    ).rejects.toBeInstanceOf(ClientAuthConfigurationError);
  });

  it('awaits a key source and refuses an empty signature', async () => {
    const inner = importPrivateSigningKey(fixtureKey('ES256').privateJwk);
    const viaSource = await signClientAssertion({
      clientId: 's',
      audience: ISSUER,
      key: { current: () => Promise.resolve(inner) },
    });
    expect(decodeProtectedHeader(viaSource).kid).toBe(inner.kid);
    const empty: AssertionSigningKey = {
      alg: 'ES256',
      method: 'private_key_jwt',
      sign: () => Promise.resolve(new Uint8Array()),
    };
    await expect(
      signClientAssertion({ clientId: 's', audience: ISSUER, key: empty }),
    ).rejects.toBeInstanceOf(SigningKeyError);
  });
});
