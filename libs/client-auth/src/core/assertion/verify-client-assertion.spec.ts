import { describe, it, expect, beforeAll } from '@jest/globals';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { webcrypto } from 'node:crypto';
import {
  ASYMMETRIC_ALGS,
  FakeKeySets,
  HMAC_ALGS,
  INTROSPECTION_ENDPOINT,
  ISSUER,
  NOW,
  NOW_S,
  TOKEN_ENDPOINT,
  claimsFor,
  client,
  keyCredential,
  loadKey,
  secretCredential,
  secretOfLength,
  signJws,
  unsignedJws,
  withoutUndefined,
  type LoadedKey,
} from '../../../../../test/fixtures/keys/helpers.js';
import type { FixtureAlg } from '../../../../../test/fixtures/keys/index.js';
import {
  ClientAuthError,
  GENERIC_CLIENT_AUTH_DESCRIPTION,
  type ClientAuthReason,
} from '../errors.js';
import type { ClientAuthenticationSettings } from '../options.js';
import type { RegisteredClient } from '../types.js';
import {
  verifyClientAssertion,
  type AssertionContext,
  type VerifiedAssertion,
} from './verify-client-assertion.js';

const SETTINGS: ClientAuthenticationSettings = { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT };
const JWKS_URI = 'https://client.example.com/jwks.json';

const keys = {} as Record<FixtureAlg, [LoadedKey, LoadedKey]>;

beforeAll(async () => {
  for (const { fixture } of ASYMMETRIC_ALGS) {
    keys[fixture] = [await loadKey(fixture, 0), await loadKey(fixture, 1)];
  }
});

function context(overrides: Partial<AssertionContext> = {}): AssertionContext {
  return {
    settings: SETTINGS,
    endpointUrl: TOKEN_ENDPOINT,
    keySets: new FakeKeySets([]),
    now: NOW,
    ...overrides,
  };
}

/** Signs an assertion with a fixture key; header `kid` defaults to the key's, `null` drops it. */
function sign(
  key: LoadedKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const full = { alg: key.alg, kid: key.kid, ...header };
  return signJws(withoutUndefined(full), withoutUndefined(claims), key.privateKey);
}

function signHmac(
  secret: string,
  alg: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return signJws(
    withoutUndefined({ alg, ...header }),
    withoutUndefined(claims),
    new TextEncoder().encode(secret),
  );
}

/** A private_key_jwt client registering the public JWKs given. */
function keyClient(
  clientId: string,
  jwks: JWK[],
  overrides: Partial<RegisteredClient> = {},
): RegisteredClient {
  return client(
    clientId,
    'private_key_jwt',
    jwks.map((jwk) => keyCredential(jwk)),
    overrides,
  );
}

async function failure(promise: Promise<unknown>): Promise<ClientAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientAuthError) return error;
    throw error;
  }
  throw new Error('expected the verification to fail');
}

/** Asserts a failure before the signature was verified: generic description (SPEC S2.9). */
async function expectEarlyFailure(
  promise: Promise<unknown>,
  reason: ClientAuthReason,
): Promise<ClientAuthError> {
  const error = await failure(promise);
  expect(error.reason).toBe(reason);
  expect(error.error).toBe('invalid_client');
  expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
  return error;
}

/** Asserts a failure after the signature was verified: the description names the rule. */
async function expectLateFailure(
  promise: Promise<unknown>,
  reason: ClientAuthReason,
): Promise<ClientAuthError> {
  const error = await failure(promise);
  expect(error.reason).toBe(reason);
  expect(error.error).toBe('invalid_client');
  expect(error.description).not.toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
  expect(error.description).toBe(error.detail);
  return error;
}

describe('verifyClientAssertion: private_key_jwt happy path per algorithm (SPEC S2.4, S2.5)', () => {
  it.each(ASYMMETRIC_ALGS)(
    '$alg with kid verifies against the registered key',
    async ({ alg, fixture }) => {
      const key = keys[fixture][0];
      const registered = keyClient('c-' + alg, [keys[fixture][1].publicJwk, key.publicJwk]);
      const claims = claimsFor(registered.clientId);
      const result = await verifyClientAssertion(
        await sign(key, claims, { alg }),
        registered,
        context(),
      );
      const expected: VerifiedAssertion = {
        method: 'private_key_jwt',
        alg,
        kid: key.kid,
        credentialId: registered.credentials[1]!.id,
        jti: claims.jti as string,
        exp: NOW_S + 60,
        iat: NOW_S,
        audienceForm: 'issuer',
      };
      expect(result).toEqual(expected);
    },
  );

  it.each(ASYMMETRIC_ALGS)(
    '$alg without kid tries each registered key that fits',
    async ({ alg, fixture }) => {
      const key = keys[fixture][0];
      const registered = keyClient('c-' + alg, [keys[fixture][1].publicJwk, key.publicJwk]);
      const result = await verifyClientAssertion(
        await sign(key, claimsFor(registered.clientId), { kid: undefined, typ: 'JWT' }),
        registered,
        context(),
      );
      expect(result).toMatchObject({
        alg,
        kid: key.kid,
        credentialId: registered.credentials[1]!.id,
        typ: 'JWT',
      });
    },
  );

  it.each(ASYMMETRIC_ALGS)(
    '$alg signed by another key of the same type → signature_invalid',
    async ({ fixture }) => {
      const [registeredKey, otherKey] = keys[fixture];
      const registered = keyClient('c', [registeredKey.publicJwk]);
      // The attacker's key claims the registered kid.
      const assertion = await sign(otherKey, claimsFor('c'), { kid: registeredKey.kid });
      await expectEarlyFailure(
        verifyClientAssertion(assertion, registered, context()),
        'signature_invalid',
      );
    },
  );

  it.each(ASYMMETRIC_ALGS)(
    '$alg with a tampered payload → signature_invalid',
    async ({ fixture }) => {
      const key = keys[fixture][0];
      const registered = keyClient('c', [key.publicJwk]);
      const [header, , signature] = (await sign(key, claimsFor('c'))).split('.');
      const forged = Buffer.from(JSON.stringify(claimsFor('c', { exp: NOW_S + 100 }))).toString(
        'base64url',
      );
      await expectEarlyFailure(
        verifyClientAssertion(`${header}.${forged}.${signature}`, registered, context()),
        'signature_invalid',
      );
    },
  );

  it.each(ASYMMETRIC_ALGS)('$alg with an unknown kid → kid_unknown', async ({ fixture }) => {
    const key = keys[fixture][0];
    const registered = keyClient('c', [key.publicJwk]);
    const assertion = await sign(key, claimsFor('c'), { kid: 'not-registered' });
    await expectEarlyFailure(
      verifyClientAssertion(assertion, registered, context()),
      'kid_unknown',
    );
  });

  it.each(ASYMMETRIC_ALGS)(
    '$alg: a registered token_endpoint_auth_signing_alg is the only one accepted',
    async ({ alg, fixture }) => {
      const key = keys[fixture][0];
      const other = alg === 'ES256' ? 'ES384' : 'ES256';
      const assertion = await sign(key, claimsFor('c'), { alg });
      await expectEarlyFailure(
        verifyClientAssertion(
          assertion,
          keyClient('c', [key.publicJwk], { tokenEndpointAuthSigningAlg: other }),
          context(),
        ),
        'alg_not_registered',
      );
      await expect(
        verifyClientAssertion(
          assertion,
          keyClient('c', [key.publicJwk], { tokenEndpointAuthSigningAlg: alg }),
          context(),
        ),
      ).resolves.toMatchObject({ alg });
    },
  );

  it.each(ASYMMETRIC_ALGS)(
    '$alg: a registered key of the wrong type is never tried',
    async ({ alg, fixture }) => {
      const key = keys[fixture][0];
      const wrongType = fixture.startsWith('ES') ? keys.EdDSA[0] : keys.ES256[0];
      // With a bound of one key, the wrong-type key listed first would use up the only try if it
      // were a candidate.
      const registered = keyClient('c', [wrongType.publicJwk, key.publicJwk]);
      const result = await verifyClientAssertion(
        await sign(key, claimsFor('c'), { kid: undefined }),
        registered,
        context({ settings: { ...SETTINGS, maxKeysWithoutKid: 1 } }),
      );
      expect(result.alg).toBe(alg);
      // Named by kid, a key of the wrong type is refused before any signature check.
      const named = await sign(key, claimsFor('c'), { kid: wrongType.kid });
      await expectEarlyFailure(
        verifyClientAssertion(named, registered, context()),
        'no_usable_key',
      );
    },
  );

  it('Ed25519 (the fully-specified name, RFC 9864) verifies with an EdDSA-registered OKP key', async () => {
    const key = keys.EdDSA[0];
    const registered = keyClient('c', [key.publicJwk]);
    const result = await verifyClientAssertion(
      await sign(key, claimsFor('c'), { alg: 'Ed25519' }),
      registered,
      context(),
    );
    expect(result.alg).toBe('Ed25519');
  });

  it('interoperates with assertions minted by jose SignJWT', async () => {
    const key = keys.PS384[0];
    const privateKey = await importJWK(key.privateJwk, 'PS384');
    const assertion = await new SignJWT({ jti: 'jose-minted' })
      .setProtectedHeader({ alg: 'PS384', kid: key.kid, typ: 'client-authentication+jwt' })
      .setIssuer('c')
      .setSubject('c')
      .setAudience(ISSUER)
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 60)
      .sign(privateKey);
    await expect(
      verifyClientAssertion(assertion, keyClient('c', [key.publicJwk]), context()),
    ).resolves.toMatchObject({
      jti: 'jose-minted',
      typ: 'client-authentication+jwt',
    });
  });

  it('a credential alg other than the header alg excludes the key', async () => {
    const key = keys.ES256[0];
    const { alg: _a, ...bareJwk } = key.publicJwk;
    const registered = client('c', 'private_key_jwt', [keyCredential(bareJwk, { alg: 'ES384' })]);
    await expectEarlyFailure(
      verifyClientAssertion(await sign(key, claimsFor('c')), registered, context()),
      'no_usable_key',
    );
  });
});

describe('verifyClientAssertion: credential status and validity window (SPEC S3)', () => {
  const cases: [string, Parameters<typeof keyCredential>[1], 'ok' | ClientAuthReason][] = [
    ['active, no window', {}, 'ok'],
    ['revoked', { status: 'revoked' }, 'kid_unknown'],
    ['expired (expiresAt in the past)', { expiresAt: new Date((NOW_S - 1) * 1000) }, 'kid_unknown'],
    ['expiring exactly now', { expiresAt: NOW }, 'kid_unknown'],
    ['expiring in a second', { expiresAt: new Date((NOW_S + 1) * 1000) }, 'ok'],
    [
      'not yet valid (notBefore in the future)',
      { notBefore: new Date((NOW_S + 1) * 1000) },
      'kid_unknown',
    ],
    ['valid from exactly now', { notBefore: NOW }, 'ok'],
  ];

  it.each(cases)('a key credential %s', async (_name, overrides, outcome) => {
    const key = keys.ES256[0];
    const registered = client('c', 'private_key_jwt', [keyCredential(key.publicJwk, overrides)]);
    const withKidAssertion = await sign(key, claimsFor('c'));
    const withoutKidAssertion = await sign(key, claimsFor('c'), { kid: undefined });
    const withKid = verifyClientAssertion(withKidAssertion, registered, context());
    const withoutKid = verifyClientAssertion(withoutKidAssertion, registered, context());
    if (outcome === 'ok') {
      await expect(withKid).resolves.toMatchObject({ alg: 'ES256' });
      await expect(withoutKid).resolves.toMatchObject({ alg: 'ES256' });
    } else {
      await expectEarlyFailure(withKid, outcome);
      await expectEarlyFailure(withoutKid, 'no_usable_key');
    }
  });

  it.each(cases)('a secret credential %s', async (_name, overrides, outcome) => {
    const secret = secretOfLength(32);
    const registered = client('c', 'client_secret_jwt', [secretCredential(secret, overrides)]);
    const result = verifyClientAssertion(
      await signHmac(secret, 'HS256', claimsFor('c')),
      registered,
      context(),
    );
    if (outcome === 'ok') await expect(result).resolves.toMatchObject({ alg: 'HS256' });
    else await expectEarlyFailure(result, 'no_usable_key');
  });

  it('a key rotated with overlap: old and new both verify while active', async () => {
    const [oldKey, newKey] = keys.RS256;
    const registered = client('c', 'private_key_jwt', [
      keyCredential(oldKey.publicJwk, { expiresAt: new Date((NOW_S + 3600) * 1000) }),
      keyCredential(newKey.publicJwk, { notBefore: new Date((NOW_S - 60) * 1000) }),
    ]);
    await expect(
      verifyClientAssertion(await sign(oldKey, claimsFor('c')), registered, context()),
    ).resolves.toMatchObject({
      credentialId: registered.credentials[0]!.id,
    });
    await expect(
      verifyClientAssertion(await sign(newKey, claimsFor('c')), registered, context()),
    ).resolves.toMatchObject({
      credentialId: registered.credentials[1]!.id,
    });
  });
});

describe('verifyClientAssertion: client_secret_jwt per algorithm (SPEC S2.4, RFC 7518 §3.2)', () => {
  it.each(HMAC_ALGS)(
    '$alg verifies with a secret of exactly $bytes bytes',
    async ({ alg, bytes }) => {
      const secret = secretOfLength(bytes);
      const registered = client('s', 'client_secret_jwt', [secretCredential(secret)]);
      const claims = claimsFor('s');
      await expect(
        verifyClientAssertion(await signHmac(secret, alg, claims), registered, context()),
      ).resolves.toEqual({
        method: 'client_secret_jwt',
        alg,
        credentialId: registered.credentials[0]!.id,
        jti: claims.jti,
        exp: NOW_S + 60,
        iat: NOW_S,
        audienceForm: 'issuer',
      });
    },
  );

  it.each(HMAC_ALGS)(
    '$alg refuses a secret one byte shorter than the hash ($bytes − 1)',
    async ({ alg, bytes }) => {
      const secret = secretOfLength(bytes - 1);
      const registered = client('s', 'client_secret_jwt', [secretCredential(secret)]);
      const error = await expectEarlyFailure(
        verifyClientAssertion(await signHmac(secret, alg, claimsFor('s')), registered, context()),
        'no_usable_key',
      );
      expect(error.detail).toMatch(new RegExp(`shorter than ${bytes} bytes`));
    },
  );

  it.each(HMAC_ALGS)(
    '$alg signed with another secret → signature_invalid',
    async ({ alg, bytes }) => {
      const registered = client('s', 'client_secret_jwt', [
        secretCredential(secretOfLength(bytes)),
      ]);
      await expectEarlyFailure(
        verifyClientAssertion(
          await signHmac(secretOfLength(bytes), alg, claimsFor('s')),
          registered,
          context(),
        ),
        'signature_invalid',
      );
    },
  );

  it.each(HMAC_ALGS)(
    '$alg: the registered signing alg is the only one accepted',
    async ({ alg }) => {
      const secret = secretOfLength(64);
      const other = alg === 'HS256' ? 'HS512' : 'HS256';
      const registered = client('s', 'client_secret_jwt', [secretCredential(secret)], {
        tokenEndpointAuthSigningAlg: other,
      });
      await expectEarlyFailure(
        verifyClientAssertion(await signHmac(secret, alg, claimsFor('s')), registered, context()),
        'alg_not_registered',
      );
    },
  );

  it.each(ASYMMETRIC_ALGS)('a client_secret_jwt client refuses $alg', async ({ alg, fixture }) => {
    const registered = client('s', 'client_secret_jwt', [secretCredential(secretOfLength(64))]);
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(keys[fixture][0], claimsFor('s'), { alg }),
        registered,
        context(),
      ),
      'alg_not_allowed',
    );
  });

  it('uses the UTF-8 bytes of the secret as the HMAC key (multi-byte characters count in bytes)', async () => {
    const secret = 'é'.repeat(16); // 16 characters, 32 bytes
    const registered = client('s', 'client_secret_jwt', [secretCredential(secret)]);
    await expect(
      verifyClientAssertion(await signHmac(secret, 'HS256', claimsFor('s')), registered, context()),
    ).resolves.toMatchObject({ alg: 'HS256' });
  });

  it('tries every usable secret (rotation) and reports the one that verified', async () => {
    const [oldSecret, newSecret] = [secretOfLength(64), secretOfLength(64)];
    const registered = client('s', 'client_secret_jwt', [
      secretCredential(oldSecret),
      secretCredential(newSecret),
    ]);
    const result = await verifyClientAssertion(
      await signHmac(newSecret, 'HS512', claimsFor('s')),
      registered,
      context(),
    );
    expect(result.credentialId).toBe(registered.credentials[1]!.id);
  });

  it('a kid that names a secret narrows the candidates to it; an unknown kid does not', async () => {
    const [a, b] = [secretOfLength(32), secretOfLength(32)];
    const registered = client('s', 'client_secret_jwt', [
      secretCredential(a, { kid: 'a' }),
      secretCredential(b, { kid: 'b' }),
    ]);
    await expectEarlyFailure(
      verifyClientAssertion(
        await signHmac(b, 'HS256', claimsFor('s'), { kid: 'a' }),
        registered,
        context(),
      ),
      'signature_invalid',
    );
    await expect(
      verifyClientAssertion(
        await signHmac(b, 'HS256', claimsFor('s'), { kid: 'b' }),
        registered,
        context(),
      ),
    ).resolves.toMatchObject({ kid: 'b', credentialId: registered.credentials[1]!.id });
    await expect(
      verifyClientAssertion(
        await signHmac(b, 'HS256', claimsFor('s'), { kid: 'zzz' }),
        registered,
        context(),
      ),
    ).resolves.toMatchObject({ credentialId: registered.credentials[1]!.id });
  });

  it('ignores secret_digest and key credentials of a client_secret_jwt client', async () => {
    const registered = client('s', 'client_secret_jwt', [
      keyCredential(keys.ES256[0].publicJwk),
      { id: 'd', kind: 'secret_digest', secretDigest: 'sha256:x', status: 'active' },
    ]);
    await expectEarlyFailure(
      verifyClientAssertion(
        await signHmac(secretOfLength(32), 'HS256', claimsFor('s')),
        registered,
        context(),
      ),
      'no_usable_key',
    );
  });
});

describe('verifyClientAssertion: algorithm confusion and alg none (SPEC S2.4)', () => {
  it.each(['HS256', 'HS384', 'HS512'])(
    'an %s assertion MACed with the RSA public key (PEM or JWK JSON) is refused for a key client',
    async (alg) => {
      const key = keys.RS256[0];
      const registered = keyClient('c', [key.publicJwk]);
      const publicKey = await importJWK(key.publicJwk, 'RS256');
      const pem = await exportSPKI(publicKey as webcrypto.CryptoKey);
      for (const secret of [pem, JSON.stringify(key.publicJwk), key.publicJwk.n as string]) {
        const assertion = await signHmac(secret, alg, claimsFor('c'), { kid: key.kid });
        await expectEarlyFailure(
          verifyClientAssertion(assertion, registered, context()),
          'alg_not_allowed',
        );
      }
    },
  );

  it.each([
    ['private_key_jwt', keyClient('c', [])],
    ['client_secret_jwt', client('c', 'client_secret_jwt', [secretCredential(secretOfLength(64))])],
  ])('an unsigned alg none assertion is refused for %s', async (_method, registered) => {
    await expectEarlyFailure(
      verifyClientAssertion(unsignedJws(claimsFor('c')), registered, context()),
      'alg_not_allowed',
    );
    // Even with a (meaningless) signature part.
    const withSignature = unsignedJws(claimsFor('c')) + 'c2ln';
    await expectEarlyFailure(
      verifyClientAssertion(withSignature, registered, context()),
      'alg_not_allowed',
    );
  });

  it.each(['None', 'NONE', 'nOnE'])('alg %s is refused too', async (alg) => {
    await expectEarlyFailure(
      verifyClientAssertion(unsignedJws(claimsFor('c'), { alg }), keyClient('c', []), context()),
      'alg_not_allowed',
    );
  });

  it.each([
    ['a missing alg', { alg: undefined }],
    ['a numeric alg', { alg: 256 }],
  ])('%s → assertion_malformed', async (_name, header) => {
    const key = keys.ES256[0];
    const [, payload, signature] = (await sign(key, claimsFor('c'))).split('.');
    const encoded = Buffer.from(
      JSON.stringify(withoutUndefined({ kid: key.kid, ...header })),
    ).toString('base64url');
    await expectEarlyFailure(
      verifyClientAssertion(
        `${encoded}.${payload}.${signature}`,
        keyClient('c', [key.publicJwk]),
        context(),
      ),
      'assertion_malformed',
    );
  });
});

describe('verifyClientAssertion: header rules (SPEC S2.4)', () => {
  it.each(['jwk', 'jku', 'x5u', 'x5c'])(
    'a %s header is refused even when the signature is valid',
    async (name) => {
      const key = keys.ES256[0];
      const values: Record<string, unknown> = {
        jwk: key.publicJwk,
        jku: 'https://attacker.example/jwks',
        x5u: 'https://attacker.example/cert.pem',
        x5c: ['MIIB'],
      };
      const assertion = await sign(key, claimsFor('c'), { [name]: values[name] });
      const error = await expectEarlyFailure(
        verifyClientAssertion(assertion, keyClient('c', [key.publicJwk]), context()),
        'header_key_forbidden',
      );
      expect(error.claim).toBe(name);
    },
  );

  it('an embedded jwk of an unregistered key never authenticates', async () => {
    const attacker = await generateKeyPair('ES256');
    const jwk = await exportJWK(attacker.publicKey);
    const assertion = await signJws(
      { alg: 'ES256', jwk },
      claimsFor('c'),
      attacker.privateKey as webcrypto.CryptoKey,
    );
    await expectEarlyFailure(
      verifyClientAssertion(assertion, keyClient('c', [keys.ES256[0].publicJwk]), context()),
      'header_key_forbidden',
    );
  });

  it.each([[['exp']], [[]], [['b64']]])('a crit header %p → crit_unsupported', async (crit) => {
    const key = keys.ES256[0];
    const assertion = await sign(key, claimsFor('c'), { crit, exp: NOW_S + 60, b64: true });
    await expectEarlyFailure(
      verifyClientAssertion(assertion, keyClient('c', [key.publicJwk]), context()),
      'crit_unsupported',
    );
  });

  it.each([
    ['JWT', true],
    ['jwt', true],
    ['application/jwt', true],
    ['Application/JWT', true],
    ['client-authentication+jwt', true],
    ['application/client-authentication+jwt', true],
    ['CLIENT-AUTHENTICATION+JWT', true],
    ['at+jwt', false],
    ['application/at+jwt', false],
    ['JOSE', false],
    ['JOSE+JSON', false],
    ['secevent+jwt', false],
    ['', false],
    [7, false],
  ])('typ %p accepted: %p', async (typ, accepted) => {
    const key = keys.ES256[0];
    const result = verifyClientAssertion(
      await sign(key, claimsFor('c'), { typ }),
      keyClient('c', [key.publicJwk]),
      context(),
    );
    if (accepted) await expect(result).resolves.toMatchObject({ typ });
    else await expectEarlyFailure(result, 'typ_invalid');
  });

  it.each([[''], [5], [{ a: 1 }]])(
    'a kid %p that is not a non-empty string → assertion_malformed',
    async (kid) => {
      const key = keys.ES256[0];
      await expectEarlyFailure(
        verifyClientAssertion(
          await sign(key, claimsFor('c'), { kid }),
          keyClient('c', [key.publicJwk]),
          context(),
        ),
        'assertion_malformed',
      );
    },
  );

  it('an HS256 assertion for a private_key_jwt client → alg_not_allowed', async () => {
    await expectEarlyFailure(
      verifyClientAssertion(
        await signHmac(secretOfLength(32), 'HS256', claimsFor('c')),
        keyClient('c', []),
        context(),
      ),
      'alg_not_allowed',
    );
  });

  it.each(['client_secret_basic', 'client_secret_post', 'none'] as const)(
    'a client registered for %s cannot be verified by assertion → method_not_registered',
    async (method) => {
      const key = keys.ES256[0];
      await expectEarlyFailure(
        verifyClientAssertion(
          await sign(key, claimsFor('c')),
          client('c', method, [keyCredential(key.publicJwk)]),
          context(),
        ),
        'method_not_registered',
      );
    },
  );
});

describe('verifyClientAssertion: size and structure (SPEC S2.2)', () => {
  /** A valid assertion padded (with an extra claim) to exactly `bytes` characters. */
  async function assertionOfSize(bytes: number): Promise<string> {
    const key = keys.ES256[0];
    const claims = claimsFor('c', { pad: '' });
    const base = (await sign(key, claims)).length;
    // Base64url: 3 payload bytes → 4 characters; pad until the length is right.
    for (let pad = Math.max(0, Math.floor(((bytes - base) * 3) / 4) - 4); pad < bytes; pad++) {
      const candidate = await sign(key, { ...claims, pad: 'x'.repeat(pad) });
      if (candidate.length === bytes) return candidate;
      if (candidate.length > bytes) break;
    }
    throw new Error(`cannot build an assertion of ${bytes} bytes`);
  }

  it('accepts an assertion of exactly 8192 bytes (the default cap)', async () => {
    const assertion = await assertionOfSize(8192);
    await expect(
      verifyClientAssertion(assertion, keyClient('c', [keys.ES256[0].publicJwk]), context()),
    ).resolves.toMatchObject({
      alg: 'ES256',
    });
  });

  it('refuses 8193 bytes before parsing: assertion_too_large', async () => {
    const assertion = await assertionOfSize(8193);
    await expectEarlyFailure(
      verifyClientAssertion(assertion, keyClient('c', [keys.ES256[0].publicJwk]), context()),
      'assertion_too_large',
    );
    // Garbage of that size is refused for its size, not parsed.
    await expectEarlyFailure(
      verifyClientAssertion('x'.repeat(8193), keyClient('c', []), context()),
      'assertion_too_large',
    );
  });

  it('honours a configured cap', async () => {
    const assertion = await assertionOfSize(1000);
    const registered = keyClient('c', [keys.ES256[0].publicJwk]);
    const at = (maxAssertionBytes: number) =>
      context({ settings: { ...SETTINGS, maxAssertionBytes } });
    await expect(verifyClientAssertion(assertion, registered, at(1000))).resolves.toMatchObject({
      alg: 'ES256',
    });
    await expectEarlyFailure(
      verifyClientAssertion(assertion, registered, at(999)),
      'assertion_too_large',
    );
  });

  it('counts UTF-8 bytes, not characters', async () => {
    await expectEarlyFailure(
      verifyClientAssertion(
        'é'.repeat(600),
        keyClient('c', []),
        context({ settings: { ...SETTINGS, maxAssertionBytes: 1000 } }),
      ),
      'assertion_too_large',
    );
  });

  const enc = (value: string) => Buffer.from(value).toString('base64url');
  it.each([
    ['two parts', `${enc('{"alg":"ES256"}')}.${enc('{}')}`],
    ['four parts', `${enc('{"alg":"ES256"}')}.${enc('{}')}.c2ln.c2ln`],
    ['JWE-like five parts', 'a.b.c.d.e'],
    ['an empty string', ''],
    ['non-base64url characters', `${enc('{"alg":"ES256"}')}.${enc('{}')}+/.c2ln`],
    ['padding characters', `${enc('{"alg":"ES256"}')}=.${enc('{}')}.c2ln`],
    ['a header that is not JSON', `${enc('{alg:ES256}')}.${enc('{}')}.c2ln`],
    ['a header that is a JSON array', `${enc('["ES256"]')}.${enc('{}')}.c2ln`],
    ['a header that is JSON null', `${enc('null')}.${enc('{}')}.c2ln`],
    ['a payload that is a JSON string', `${enc('{"alg":"ES256"}')}.${enc('"c"')}.c2ln`],
    [
      'a payload that is not UTF-8',
      `${enc('{"alg":"ES256"}')}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.c2ln`,
    ],
    ['an empty header', `.${enc('{}')}.c2ln`],
    ['an empty payload', `${enc('{"alg":"ES256"}')}..c2ln`],
    ['an impossible signature length', `${enc('{"alg":"ES256"}')}.${enc('{}')}.abcde`],
  ])('%s → assertion_malformed', async (_name, assertion) => {
    await expectEarlyFailure(
      verifyClientAssertion(assertion, keyClient('c', []), context()),
      'assertion_malformed',
    );
  });
});

describe('verifyClientAssertion: jwks_uri keys with refresh (SPEC S2.5, S6)', () => {
  const remoteClient = (overrides: Partial<RegisteredClient> = {}) =>
    client('r', 'private_key_jwt', [], { jwksUri: JWKS_URI, ...overrides });

  it.each(ASYMMETRIC_ALGS)(
    '$alg: verifies with the cached set, without refreshing',
    async ({ alg, fixture }) => {
      const key = keys[fixture][0];
      const keySets = new FakeKeySets([keys[fixture][1].publicJwk, key.publicJwk]);
      const result = await verifyClientAssertion(
        await sign(key, claimsFor('r'), { alg }),
        remoteClient(),
        context({ keySets }),
      );
      expect(result).toMatchObject({ alg, kid: key.kid });
      expect(result.credentialId).toBeUndefined();
      expect([keySets.getCalls, keySets.refreshCalls]).toEqual([1, 0]);
    },
  );

  it.each(ASYMMETRIC_ALGS)(
    '$alg: an unknown kid triggers exactly one refresh, then the rotated key verifies',
    async ({ fixture }) => {
      const [oldKey, newKey] = keys[fixture];
      const keySets = new FakeKeySets([oldKey.publicJwk]);
      await keySets.get(JWKS_URI); // cached before the rotation
      keySets.remote = [newKey.publicJwk];
      const result = await verifyClientAssertion(
        await sign(newKey, claimsFor('r')),
        remoteClient(),
        context({ keySets }),
      );
      expect(result.kid).toBe(newKey.kid);
      expect(keySets.refreshCalls).toBe(1);
    },
  );

  it.each(ASYMMETRIC_ALGS)(
    '$alg: a failed signature refreshes once and retries with the new key',
    async ({ fixture }) => {
      const [oldKey, newKey] = keys[fixture];
      const keySets = new FakeKeySets([oldKey.publicJwk]);
      await keySets.get(JWKS_URI);
      // The client replaced the key behind the same kid.
      keySets.remote = [{ ...newKey.publicJwk, kid: oldKey.kid }];
      const assertion = await sign(newKey, claimsFor('r'), { kid: oldKey.kid });
      await expect(
        verifyClientAssertion(assertion, remoteClient(), context({ keySets })),
      ).resolves.toMatchObject({
        kid: oldKey.kid,
      });
      expect(keySets.refreshCalls).toBe(1);
    },
  );

  it('a failed signature without kid refreshes once and retries', async () => {
    const [oldKey, newKey] = keys.ES384;
    const keySets = new FakeKeySets([oldKey.publicJwk]);
    await keySets.get(JWKS_URI);
    keySets.remote = [newKey.publicJwk];
    await expect(
      verifyClientAssertion(
        await sign(newKey, claimsFor('r'), { kid: undefined }),
        remoteClient(),
        context({ keySets }),
      ),
    ).resolves.toMatchObject({ kid: newKey.kid });
    expect(keySets.refreshCalls).toBe(1);
  });

  it('unknown kid and the refreshed set still lacks it → kid_unknown after one refresh', async () => {
    const keySets = new FakeKeySets([keys.ES256[0].publicJwk]);
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(keys.ES256[1], claimsFor('r')),
        remoteClient(),
        context({ keySets }),
      ),
      'kid_unknown',
    );
    expect(keySets.refreshCalls).toBe(1);
  });

  it('unknown kid with the refresh refused by the cooldown (undefined) → kid_unknown', async () => {
    const keySets = new FakeKeySets([keys.ES256[0].publicJwk]);
    await keySets.get(JWKS_URI);
    keySets.remote = [keys.ES256[1].publicJwk];
    keySets.refreshAllowed = false;
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(keys.ES256[1], claimsFor('r')),
        remoteClient(),
        context({ keySets }),
      ),
      'kid_unknown',
    );
    expect(keySets.refreshCalls).toBe(1);
  });

  it('failed signature with the refresh refused (undefined) → signature_invalid', async () => {
    const [oldKey, newKey] = keys.ES256;
    const keySets = new FakeKeySets([oldKey.publicJwk]);
    keySets.refreshAllowed = false;
    const assertion = await sign(newKey, claimsFor('r'), { kid: oldKey.kid });
    await expectEarlyFailure(
      verifyClientAssertion(assertion, remoteClient(), context({ keySets })),
      'signature_invalid',
    );
    expect(keySets.refreshCalls).toBe(1);
  });

  it('failed signature after the refresh → signature_invalid, never a second refresh', async () => {
    const [registered, attacker] = keys.ES256;
    const keySets = new FakeKeySets([registered.publicJwk]);
    const assertion = await sign(attacker, claimsFor('r'), { kid: registered.kid });
    await expectEarlyFailure(
      verifyClientAssertion(assertion, remoteClient(), context({ keySets })),
      'signature_invalid',
    );
    expect(keySets.refreshCalls).toBe(1);
  });

  it('unknown kid refreshed to a set where the signature fails → one refresh only', async () => {
    const [a, b] = keys.ES256;
    const keySets = new FakeKeySets([a.publicJwk]);
    await keySets.get(JWKS_URI);
    keySets.remote = [{ ...a.publicJwk, kid: 'new' }];
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(b, claimsFor('r'), { kid: 'new' }),
        remoteClient(),
        context({ keySets }),
      ),
      'signature_invalid',
    );
    expect(keySets.refreshCalls).toBe(1);
  });

  it('keySets.get throwing → jwks_unavailable (invalid_client, generic)', async () => {
    const keySets = new FakeKeySets([keys.ES256[0].publicJwk]);
    keySets.failGet = true;
    const error = await expectEarlyFailure(
      verifyClientAssertion(
        await sign(keys.ES256[0], claimsFor('r')),
        remoteClient(),
        context({ keySets }),
      ),
      'jwks_unavailable',
    );
    expect(error.status).toBe(401);
  });

  it('keySets.refresh throwing → jwks_unavailable', async () => {
    const keySets = new FakeKeySets([keys.ES256[0].publicJwk]);
    keySets.failRefresh = true;
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(keys.ES256[1], claimsFor('r')),
        remoteClient(),
        context({ keySets }),
      ),
      'jwks_unavailable',
    );
  });

  it('ignores registered credentials of a jwks_uri client: keys come from the jwks_uri', async () => {
    const key = keys.ES256[0];
    const keySets = new FakeKeySets([]);
    keySets.refreshAllowed = false;
    const registered = remoteClient({ credentials: [keyCredential(key.publicJwk)] });
    await expectEarlyFailure(
      verifyClientAssertion(await sign(key, claimsFor('r')), registered, context({ keySets })),
      'kid_unknown',
    );
  });

  it('a remote key of the wrong type is never tried and symmetric keys never fit', async () => {
    const key = keys.ES256[0];
    const keySets = new FakeKeySets([
      { kty: 'oct', k: 'c2VjcmV0' },
      keys.RS256[0].publicJwk,
      key.publicJwk,
    ]);
    await expect(
      verifyClientAssertion(
        await sign(key, claimsFor('r'), { kid: undefined }),
        remoteClient(),
        context({ keySets, settings: { ...SETTINGS, maxKeysWithoutKid: 1 } }),
      ),
    ).resolves.toMatchObject({ kid: key.kid });
    expect(keySets.refreshCalls).toBe(0);
  });
});

describe('verifyClientAssertion: keys without kid are bounded (SPEC S2.5)', () => {
  let extra: LoadedKey[] = [];

  beforeAll(async () => {
    extra = [];
    for (let i = 0; i < 6; i++) {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: `k${i}` };
      extra.push({
        kid: `k${i}`,
        alg: 'ES256',
        privateJwk: {},
        publicJwk: jwk,
        privateKey: pair.privateKey as webcrypto.CryptoKey,
      });
    }
  });

  it.each([
    [5, 4, 'ok'],
    [5, 5, 'signature_invalid'],
    [6, 5, 'ok'],
    [1, 0, 'ok'],
    [1, 1, 'signature_invalid'],
  ] as const)(
    'maxKeysWithoutKid %i, signer at position %i → %s',
    async (max, position, outcome) => {
      const registered = keyClient(
        'c',
        extra.map((k) => k.publicJwk),
      );
      const assertion = await sign(extra[position]!, claimsFor('c'), { kid: undefined });
      const result = verifyClientAssertion(
        assertion,
        registered,
        context({ settings: { ...SETTINGS, maxKeysWithoutKid: max } }),
      );
      if (outcome === 'ok') await expect(result).resolves.toMatchObject({ kid: `k${position}` });
      else await expectEarlyFailure(result, outcome);
    },
  );

  it('the default bound is 5', async () => {
    const registered = keyClient(
      'c',
      extra.map((k) => k.publicJwk),
    );
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(extra[5]!, claimsFor('c'), { kid: undefined }),
        registered,
        context(),
      ),
      'signature_invalid',
    );
    // With its kid the sixth key is found directly.
    await expect(
      verifyClientAssertion(await sign(extra[5]!, claimsFor('c')), registered, context()),
    ).resolves.toMatchObject({
      kid: 'k5',
    });
  });

  it('without kid and without any fitting key → no_usable_key', async () => {
    const registered = keyClient('c', [keys.RS256[0].publicJwk]);
    await expectEarlyFailure(
      verifyClientAssertion(
        await sign(extra[0]!, claimsFor('c'), { kid: undefined }),
        registered,
        context(),
      ),
      'no_usable_key',
    );
  });
});

describe('verifyClientAssertion: claims (SPEC S2.6), exposed after the signature', () => {
  const verifyClaims = async (
    claims: Record<string, unknown>,
    overrides: {
      settings?: Partial<ClientAuthenticationSettings>;
      client?: Partial<RegisteredClient>;
      header?: Record<string, unknown>;
    } = {},
  ) => {
    const key = keys.ES256[0];
    const registered = keyClient('c', [key.publicJwk], overrides.client);
    return verifyClientAssertion(
      await sign(key, claims, overrides.header),
      registered,
      context({ settings: { ...SETTINGS, ...overrides.settings } }),
    );
  };

  it.each([
    ['iss missing', 'iss_mismatch', { iss: undefined }],
    ['iss another client', 'iss_mismatch', { iss: 'other' }],
    ['iss in other case', 'iss_mismatch', { iss: 'C' }],
    ['sub missing', 'sub_mismatch', { sub: undefined }],
    ['sub another client', 'sub_mismatch', { sub: 'other' }],
    ['iss not a string', 'claims_malformed', { iss: ['c'] }],
    ['sub not a string', 'claims_malformed', { sub: 1 }],
    ['jti not a string', 'claims_malformed', { jti: 123 }],
    ['exp not a number', 'claims_malformed', { exp: String(NOW_S + 60) }],
    ['nbf not a number', 'claims_malformed', { nbf: 'yesterday' }],
    ['iat not a number', 'claims_malformed', { iat: null }],
    ['exp missing', 'exp_missing', { exp: undefined }],
    ['jti missing', 'jti_missing', { jti: undefined }],
    ['jti empty', 'jti_missing', { jti: '' }],
    ['aud missing', 'aud_missing', { aud: undefined }],
    ['aud elsewhere', 'aud_not_accepted', { aud: 'https://rs.example.com' }],
  ] as const)('%s → %s', async (_name, reason, overrides) => {
    const error = await expectLateFailure(verifyClaims(claimsFor('c', overrides)), reason);
    expect(error.clientId).toBe('c');
  });

  /** exp / nbf / iat edges with the default 30 s leeway and 300 s cap. */
  it.each([
    ['exp last accepted second (now < exp + leeway)', 'ok', { exp: NOW_S - 29, iat: NOW_S - 60 }],
    [
      'exp at the boundary (now = exp + leeway)',
      'assertion_expired',
      { exp: NOW_S - 30, iat: NOW_S - 60 },
    ],
    ['exp one second past the boundary', 'assertion_expired', { exp: NOW_S - 31, iat: NOW_S - 60 }],
    ['nbf exactly now + leeway', 'ok', { nbf: NOW_S + 30 }],
    ['nbf one second past now + leeway', 'nbf_in_future', { nbf: NOW_S + 31 }],
    ['nbf in the past', 'ok', { nbf: NOW_S - 1000 }],
    ['iat exactly now + leeway', 'ok', { iat: NOW_S + 30, exp: NOW_S + 90 }],
    ['iat one second past now + leeway', 'iat_in_future', { iat: NOW_S + 31, exp: NOW_S + 91 }],
    ['exp − now exactly cap + leeway (no iat)', 'ok', { iat: undefined, exp: NOW_S + 330 }],
    ['exp − now one second over cap + leeway', 'exp_too_far', { iat: undefined, exp: NOW_S + 331 }],
    ['exp − iat exactly the cap', 'ok', { iat: NOW_S - 10, exp: NOW_S + 290 }],
    [
      'exp − iat one second over the cap',
      'lifetime_too_long',
      { iat: NOW_S - 10, exp: NOW_S + 291 },
    ],
    ['fractional NumericDates', 'ok', { iat: NOW_S - 0.5, exp: NOW_S + 59.5 }],
  ] as const)('%s → %s', async (_name, outcome, overrides) => {
    const result = verifyClaims(claimsFor('c', overrides));
    if (outcome === 'ok') await expect(result).resolves.toMatchObject({ alg: 'ES256' });
    else await expectLateFailure(result, outcome);
  });

  it.each([
    [
      'exp',
      { exp: NOW_S, iat: NOW_S - 5 },
      { exp: NOW_S + 1, iat: NOW_S - 5 },
      'assertion_expired',
    ],
    ['nbf', { nbf: NOW_S + 1 }, { nbf: NOW_S }, 'nbf_in_future'],
    ['iat', { iat: NOW_S + 1 }, { iat: NOW_S }, 'iat_in_future'],
    [
      'exp − now',
      { iat: undefined, exp: NOW_S + 301 },
      { iat: undefined, exp: NOW_S + 300 },
      'exp_too_far',
    ],
  ] as const)(
    'with leeway 0, %s is checked without tolerance',
    async (_name, refused, accepted, reason) => {
      const settings = { clockLeewaySeconds: 0 };
      await expectLateFailure(verifyClaims(claimsFor('c', refused), { settings }), reason);
      await expect(verifyClaims(claimsFor('c', accepted), { settings })).resolves.toMatchObject({
        alg: 'ES256',
      });
    },
  );

  it.each([
    ['a global cap of 600 s', { settings: { maxAssertionLifetimeSeconds: 600 } }, 600],
    ['a per-client cap of 60 s', { client: { maxAssertionLifetimeSeconds: 60 } }, 60],
    [
      'a per-client cap of 120 s over a global 600 s',
      {
        settings: { maxAssertionLifetimeSeconds: 600 },
        client: { maxAssertionLifetimeSeconds: 120 },
      },
      120,
    ],
  ])('honours %s', async (_name, overrides, cap) => {
    await expect(
      verifyClaims(claimsFor('c', { iat: undefined, exp: NOW_S + cap + 30 }), overrides),
    ).resolves.toBeDefined();
    await expectLateFailure(
      verifyClaims(claimsFor('c', { iat: undefined, exp: NOW_S + cap + 31 }), overrides),
      'exp_too_far',
    );
    await expect(
      verifyClaims(claimsFor('c', { iat: NOW_S - 5, exp: NOW_S - 5 + cap }), overrides),
    ).resolves.toBeDefined();
    await expectLateFailure(
      verifyClaims(claimsFor('c', { iat: NOW_S - 5, exp: NOW_S - 4 + cap }), overrides),
      'lifetime_too_long',
    );
  });

  it('checks the signature before any claim: an expired assertion with a bad signature is signature_invalid', async () => {
    const registered = keyClient('c', [keys.ES256[0].publicJwk]);
    const assertion = await sign(keys.ES256[1], claimsFor('c', { exp: NOW_S - 1000, iss: 'x' }), {
      kid: keys.ES256[0].kid,
    });
    await expectEarlyFailure(
      verifyClientAssertion(assertion, registered, context()),
      'signature_invalid',
    );
  });

  it('does not consume the jti: the same assertion verifies twice', async () => {
    const key = keys.ES256[0];
    const registered = keyClient('c', [key.publicJwk]);
    const assertion = await sign(key, claimsFor('c'));
    await verifyClientAssertion(assertion, registered, context());
    await expect(verifyClientAssertion(assertion, registered, context())).resolves.toBeDefined();
  });

  it('ignores unknown claims', async () => {
    await expect(
      verifyClaims(claimsFor('c', { scope: 'x', client_id: 'whatever', cnf: {} })),
    ).resolves.toBeDefined();
  });
});

describe('verifyClientAssertion: audience policy (SPEC S2.8)', () => {
  const verifyAud = async (
    aud: unknown,
    opts: {
      policy?: 'compat' | 'strict';
      clientPolicy?: 'compat' | 'strict';
      typ?: string;
      requireString?: boolean;
      endpointUrl?: string;
    } = {},
  ) => {
    const key = keys.ES256[0];
    const registered = keyClient('c', [key.publicJwk], {
      ...(opts.clientPolicy ? { audiencePolicy: opts.clientPolicy } : {}),
      ...(opts.requireString ? { requireStringAudience: true } : {}),
    });
    return verifyClientAssertion(
      await sign(key, claimsFor('c', { aud }), opts.typ ? { typ: opts.typ } : {}),
      registered,
      context({
        settings: { ...SETTINGS, ...(opts.policy ? { audiencePolicy: opts.policy } : {}) },
        endpointUrl: opts.endpointUrl ?? TOKEN_ENDPOINT,
      }),
    );
  };

  it('defaults to compat: the token endpoint URL is accepted and recorded as such', async () => {
    await expect(verifyAud(TOKEN_ENDPOINT)).resolves.toMatchObject({
      audienceForm: 'token_endpoint',
    });
    await expect(verifyAud([ISSUER])).resolves.toMatchObject({ audienceForm: 'issuer_array' });
  });

  it('accepts the URL of the endpoint being called under compat', async () => {
    await expect(
      verifyAud(INTROSPECTION_ENDPOINT, { endpointUrl: INTROSPECTION_ENDPOINT }),
    ).resolves.toMatchObject({
      audienceForm: 'endpoint_url',
    });
    await expectLateFailure(verifyAud(INTROSPECTION_ENDPOINT), 'aud_not_accepted');
  });

  it('the default token endpoint is `${issuer}/oauth/token`', async () => {
    const key = keys.ES256[0];
    const result = verifyClientAssertion(
      await sign(key, claimsFor('c', { aud: `${ISSUER}/oauth/token` })),
      keyClient('c', [key.publicJwk]),
      context({ settings: { issuer: ISSUER }, endpointUrl: undefined }),
    );
    await expect(result).resolves.toMatchObject({ audienceForm: 'token_endpoint' });
  });

  it.each([
    ['global strict', { policy: 'strict' as const }, 'aud_not_issuer'],
    [
      'per-client strict over global compat',
      { policy: 'compat' as const, clientPolicy: 'strict' as const },
      'aud_not_issuer',
    ],
    [
      'per-client compat over global strict',
      { policy: 'strict' as const, clientPolicy: 'compat' as const },
      'ok',
    ],
    [
      'typed client-authentication+jwt under compat',
      { typ: 'client-authentication+jwt' },
      'aud_not_issuer',
    ],
    [
      'typed application/client-authentication+jwt with a per-client compat override',
      { clientPolicy: 'compat' as const, typ: 'Application/Client-Authentication+JWT' },
      'aud_not_issuer',
    ],
  ])('the token endpoint URL as aud under %s → %s', async (_name, opts, outcome) => {
    const result = verifyAud(TOKEN_ENDPOINT, opts);
    if (outcome === 'ok')
      await expect(result).resolves.toMatchObject({ audienceForm: 'token_endpoint' });
    else await expectLateFailure(result, outcome as ClientAuthReason);
  });

  it('a typed assertion with the issuer passes and reports its typ', async () => {
    await expect(verifyAud(ISSUER, { typ: 'client-authentication+jwt' })).resolves.toMatchObject({
      audienceForm: 'issuer',
      typ: 'client-authentication+jwt',
    });
  });

  it('requireStringAudience refuses a one-member array, accepts a string', async () => {
    await expectLateFailure(
      verifyAud([ISSUER], { requireString: true, policy: 'strict' }),
      'aud_not_string',
    );
    await expect(
      verifyAud(ISSUER, { requireString: true, policy: 'strict' }),
    ).resolves.toMatchObject({
      audienceForm: 'issuer',
    });
  });
});

describe('verifyClientAssertion: public API', () => {
  it('is exported with its helpers through core/index', async () => {
    const core = await import('../index.js');
    expect(core.verifyClientAssertion).toBe(verifyClientAssertion);
    expect(typeof core.checkAudience).toBe('function');
    expect(typeof core.extractClientCredentials).toBe('function');
    expect(typeof core.ClientAuthenticator).toBe('function');
    expect(typeof core.MemoryReplayStore).toBe('function');
  });

  it('quotes and truncates untrusted header values in the operator detail', async () => {
    const key = keys.ES256[0];
    const kid = 'k\n'.repeat(500);
    const error = await expectEarlyFailure(
      verifyClientAssertion(
        await sign(key, claimsFor('c'), { kid }),
        keyClient('c', [key.publicJwk]),
        context(),
      ),
      'kid_unknown',
    );
    expect(error.detail).not.toContain('\n');
    expect(error.detail.length).toBeLessThan(120);
  });

  it('errors carry the client id for the failure record', async () => {
    const error = await failure(verifyClientAssertion('x.y', keyClient('named', []), context()));
    expect(error.clientId).toBe('named');
  });

  it('rejects a jwk that cannot be imported as no match rather than crashing', async () => {
    const key = keys.ES256[0];
    const broken: JWK = { ...key.publicJwk, x: 'AAAA' };
    const registered = keyClient('c', [broken]);
    await expectEarlyFailure(
      verifyClientAssertion(await sign(key, claimsFor('c')), registered, context()),
      'signature_invalid',
    );
  });
});
