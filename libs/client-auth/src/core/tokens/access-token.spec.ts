import { beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey } from 'jose';
import { NOW, NOW_S } from '../../../../../test/fixtures/keys/helpers.js';
import { fixtureKey, fixturePrivateKey } from '../../../../../test/fixtures/keys/index.js';
import { signAccessToken, type ServerSigningKey } from './access-token.js';

const ISSUER = 'https://as.example.com';

describe('signAccessToken (RFC 9068)', () => {
  const fixtures = { ES256: fixtureKey('ES256'), RS256: fixtureKey('RS256') };
  const keys = {} as Record<keyof typeof fixtures, ServerSigningKey & { publicKey: CryptoKey }>;

  beforeAll(async () => {
    for (const [alg, fixture] of Object.entries(fixtures) as [
      keyof typeof fixtures,
      typeof fixtures.ES256,
    ][]) {
      keys[alg] = {
        kid: fixture.kid,
        alg,
        privateKey: await fixturePrivateKey(fixture),
        publicKey: (await importJWK(fixture.publicJwk, alg)) as CryptoKey,
      };
    }
  });

  const verify = (token: string, alg: keyof typeof fixtures, audience: string | string[]) =>
    jwtVerify(token, keys[alg].publicKey, {
      issuer: ISSUER,
      audience,
      typ: 'at+jwt',
      currentDate: NOW,
      algorithms: [alg],
    });

  it.each(['ES256', 'RS256'] as const)(
    'signs with %s: typ at+jwt, kid, and the §2.2 claims',
    async (alg) => {
      const issued = await signAccessToken(keys[alg], {
        issuer: ISSUER,
        clientId: 'billing',
        subject: 'user-42',
        audience: 'https://api.example.com',
        scope: 'read write',
        ttlSeconds: 300,
        now: NOW,
      });
      const { payload, protectedHeader } = await verify(
        issued.token,
        alg,
        'https://api.example.com',
      );
      expect(protectedHeader).toEqual({ alg, kid: keys[alg].kid, typ: 'at+jwt' });
      expect(payload).toEqual({
        iss: ISSUER,
        sub: 'user-42',
        aud: 'https://api.example.com',
        client_id: 'billing',
        scope: 'read write',
        iat: NOW_S,
        exp: NOW_S + 300,
        jti: issued.jti,
      });
      expect(issued.expiresIn).toBe(300);
      expect(issued.expiresAt).toEqual(new Date((NOW_S + 300) * 1000));
    },
  );

  it('gives each token a fresh 128-bit jti', async () => {
    const content = {
      issuer: ISSUER,
      clientId: 'c',
      subject: 'c',
      audience: ISSUER,
      ttlSeconds: 60,
      now: NOW,
    };
    const jtis = new Set<string>();
    for (let i = 0; i < 20; i++) jtis.add((await signAccessToken(keys.ES256, content)).jti);
    expect(jtis.size).toBe(20);
    for (const jti of jtis) expect(Buffer.from(jti, 'base64url')).toHaveLength(16);
  });

  it.each([
    ['one resource: a string aud', ['https://api.example.com'], 'https://api.example.com'],
    [
      'several resources (RFC 8707): an array aud',
      ['https://a.example.com', 'https://b.example.com'],
      ['https://a.example.com', 'https://b.example.com'],
    ],
  ])('%s', async (_name, audience, expected) => {
    const { token } = await signAccessToken(keys.ES256, {
      issuer: ISSUER,
      clientId: 'c',
      subject: 'c',
      audience,
      ttlSeconds: 60,
      now: NOW,
    });
    const { payload } = await verify(token, 'ES256', audience);
    expect(payload.aud).toEqual(expected);
  });

  it('omits scope when none is granted', async () => {
    const { token } = await signAccessToken(keys.ES256, {
      issuer: ISSUER,
      clientId: 'c',
      subject: 'c',
      audience: ISSUER,
      ttlSeconds: 60,
      now: NOW,
    });
    const { payload } = await verify(token, 'ES256', ISSUER);
    expect(payload).not.toHaveProperty('scope');
  });

  it('extra claims never override the registered ones', async () => {
    const { token, jti } = await signAccessToken(keys.ES256, {
      issuer: ISSUER,
      clientId: 'c',
      subject: 's',
      audience: ISSUER,
      ttlSeconds: 60,
      now: NOW,
      claims: {
        iss: 'https://evil.example',
        sub: 'root',
        aud: 'https://evil.example',
        client_id: 'admin',
        exp: NOW_S + 999_999,
        iat: 0,
        jti: 'fixed',
        tenant: 'acme',
      },
    });
    const { payload } = await verify(token, 'ES256', ISSUER);
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: 's',
      aud: ISSUER,
      client_id: 'c',
      exp: NOW_S + 60,
      iat: NOW_S,
      jti,
      tenant: 'acme',
    });
  });

  it('an expired token is refused by a verifier at its own clock', async () => {
    const past = new Date(NOW.getTime() - 600_000);
    const { token } = await signAccessToken(keys.ES256, {
      issuer: ISSUER,
      clientId: 'c',
      subject: 'c',
      audience: ISSUER,
      ttlSeconds: 60,
      now: past,
    });
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    await expect(verify(token, 'ES256', ISSUER)).rejects.toMatchObject({
      code: 'ERR_JWT_EXPIRED',
    });
  });
});
