import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { JWK } from 'jose';
import {
  NOW,
  NOW_S,
  loadKey,
  signJws,
  unsignedJws,
  type LoadedKey,
} from '../../../../../test/fixtures/keys/helpers.js';
import { DependencyUnavailableError } from '../errors.js';
import { JwksCache } from '../jwks/jwks-cache.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import { AccessTokenError, type AccessTokenReason } from './access-token-error.js';
import {
  RemoteIssuerKeySource,
  StaticKeySource,
  type AccessTokenKeySource,
} from './issuer-key-source.js';
import { verifyAccessToken, type VerifyAccessTokenContext } from './verify-access-token.js';

const ISSUER = 'https://as.example.com';
const API = 'https://api.example.com';

let es256: LoadedKey;
let es256b: LoadedKey;
let rs256: LoadedKey;
let ps256: LoadedKey;
let eddsa: LoadedKey;
let keys: AccessTokenKeySource;

beforeAll(async () => {
  [es256, es256b, rs256, ps256, eddsa] = await Promise.all([
    loadKey('ES256', 0),
    loadKey('ES256', 1),
    loadKey('RS256', 0),
    loadKey('PS256', 0),
    loadKey('EdDSA', 0),
  ]);
  // es256b is not published: a token it signs (with es256's kid) has a foreign signature.
  keys = new StaticKeySource({
    keys: [es256.publicJwk, rs256.publicJwk, ps256.publicJwk, eddsa.publicJwk],
  });
});

/** Valid claims of an RFC 9068 access token at NOW_S; `undefined` drops a claim. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'billing',
    aud: API,
    client_id: 'billing',
    scope: 'reports:read reports:write',
    iat: NOW_S - 10,
    exp: NOW_S + 300,
    jti: randomBytes(8).toString('hex'),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

function token(
  key: LoadedKey,
  payload: Record<string, unknown> = claims(),
  header: Record<string, unknown> = {},
): Promise<string> {
  return signJws({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }, payload, key.privateKey);
}

function context(overrides: Partial<VerifyAccessTokenContext> = {}): VerifyAccessTokenContext {
  return { issuer: ISSUER, audience: API, keys, now: NOW, ...overrides };
}

async function refusal(promise: Promise<unknown>): Promise<AccessTokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AccessTokenError);
  return error as AccessTokenError;
}

describe('verifyAccessToken: accepted tokens', () => {
  it.each([
    ['ES256', () => es256],
    ['RS256', () => rs256],
    ['PS256', () => ps256],
    ['EdDSA', () => eddsa],
  ])('accepts a %s token and returns its claims and scopes', async (_alg, key) => {
    const verified = await verifyAccessToken(await token(key()), context());
    expect(verified).toMatchObject({
      source: 'jwt',
      issuer: ISSUER,
      subject: 'billing',
      clientId: 'billing',
      audience: [API],
      scopes: ['reports:read', 'reports:write'],
      exp: NOW_S + 300,
      alg: key().alg,
      kid: key().kid,
    });
    expect(verified.claims.client_id).toBe('billing');
  });

  it.each([['at+jwt'], ['application/at+jwt'], ['AT+JWT'], ['Application/At+Jwt']])(
    'accepts typ %s (RFC 9068 §4, case-insensitive)',
    async (typ) => {
      await expect(
        verifyAccessToken(await token(es256, claims(), { typ }), context()),
      ).resolves.toMatchObject({ source: 'jwt' });
    },
  );

  it('accepts an aud array holding one of several configured audiences', async () => {
    const verified = await verifyAccessToken(
      await token(es256, claims({ aud: ['https://other.example.com', API] })),
      context({ audience: ['https://legacy.example.com', API] }),
    );
    expect(verified.audience).toEqual(['https://other.example.com', API]);
  });

  it('accepts a token without kid by trying the keys that fit its alg', async () => {
    const payload = claims();
    const jws = await signJws({ alg: 'ES256', typ: 'at+jwt' }, payload, es256.privateKey);
    await expect(verifyAccessToken(jws, context())).resolves.toMatchObject({ subject: 'billing' });
  });

  it('accepts a token without scope, with no scopes', async () => {
    const verified = await verifyAccessToken(
      await token(es256, claims({ scope: undefined })),
      context(),
    );
    expect(verified.scopes).toEqual([]);
  });

  it.each([
    ['exp just passed, within the leeway', { exp: NOW_S - 29 }],
    ['nbf just ahead, within the leeway', { nbf: NOW_S + 29 }],
    ['iat just ahead, within the leeway', { iat: NOW_S + 29 }],
  ])('accepts %s', async (_case, overrides) => {
    await expect(
      verifyAccessToken(await token(es256, claims(overrides)), context()),
    ).resolves.toBeDefined();
  });

  it('uses the configured leeway', async () => {
    const jws = await token(es256, claims({ exp: NOW_S - 5 }));
    await expect(
      verifyAccessToken(jws, context({ clockLeewaySeconds: 10 })),
    ).resolves.toBeDefined();
    const error = await refusal(verifyAccessToken(jws, context({ clockLeewaySeconds: 0 })));
    expect(error.reason).toBe('token_expired');
  });
});

describe('verifyAccessToken: refused tokens', () => {
  type Case = [
    string,
    AccessTokenReason,
    () => Promise<string>,
    Partial<VerifyAccessTokenContext>?,
  ];
  const cases: Case[] = [
    [
      'a tampered signature',
      'signature_invalid',
      async () => {
        const jws = await token(es256);
        const [h, p, s] = jws.split('.') as [string, string, string];
        const sig = Buffer.from(s, 'base64url');
        sig[0]! ^= 0x01;
        return `${h}.${p}.${sig.toString('base64url')}`;
      },
    ],
    [
      'a tampered payload (scope widened)',
      'signature_invalid',
      async () => {
        const jws = await token(es256, claims({ scope: 'reports:read' }));
        const [h, , s] = jws.split('.') as [string, string, string];
        const forged = Buffer.from(JSON.stringify(claims({ scope: 'admin' }))).toString(
          'base64url',
        );
        return `${h}.${forged}.${s}`;
      },
    ],
    [
      'a signature by an unpublished key under a published kid',
      'signature_invalid',
      () => signJws({ alg: 'ES256', kid: es256.kid, typ: 'at+jwt' }, claims(), es256b.privateKey),
    ],
    ['an expired token', 'token_expired', () => token(es256, claims({ exp: NOW_S - 30 }))],
    ['no exp', 'exp_missing', () => token(es256, claims({ exp: undefined }))],
    ['nbf in the future', 'nbf_in_future', () => token(es256, claims({ nbf: NOW_S + 31 }))],
    ['iat in the future', 'iat_in_future', () => token(es256, claims({ iat: NOW_S + 31 }))],
    [
      'another issuer',
      'iss_mismatch',
      () => token(es256, claims({ iss: 'https://evil.example.com' })),
    ],
    [
      'the issuer with a trailing slash',
      'iss_mismatch',
      () => token(es256, claims({ iss: `${ISSUER}/` })),
    ],
    ['no iss', 'iss_mismatch', () => token(es256, claims({ iss: undefined }))],
    [
      'another audience',
      'aud_mismatch',
      () => token(es256, claims({ aud: 'https://other.example.com' })),
    ],
    [
      'an audience array without ours',
      'aud_mismatch',
      () => token(es256, claims({ aud: ['https://a.example.com', 'https://b.example.com'] })),
    ],
    ['no aud', 'aud_missing', () => token(es256, claims({ aud: undefined }))],
    ['an empty aud array', 'aud_missing', () => token(es256, claims({ aud: [] }))],
    ['a numeric aud', 'claims_malformed', () => token(es256, claims({ aud: 42 }))],
    ['a string exp', 'claims_malformed', () => token(es256, claims({ exp: String(NOW_S + 60) }))],
    ['a scope array', 'claims_malformed', () => token(es256, claims({ scope: ['a', 'b'] }))],
    ['typ JWT', 'typ_invalid', () => token(es256, claims(), { typ: 'JWT' })],
    ['no typ', 'typ_invalid', () => token(es256, claims(), { typ: undefined })],
    [
      'typ client-authentication+jwt',
      'typ_invalid',
      () => token(es256, claims(), { typ: 'client-authentication+jwt' }),
    ],
    ['alg none', 'alg_not_allowed', async () => unsignedJws(claims(), { typ: 'at+jwt' })],
    [
      'HS256 signed with the public key bytes as the secret',
      'alg_not_allowed',
      () =>
        signJws(
          { alg: 'HS256', kid: es256.kid, typ: 'at+jwt' },
          claims(),
          new TextEncoder().encode(JSON.stringify(es256.publicJwk)),
        ),
    ],
    [
      'an algorithm outside the configured allow-list',
      'alg_not_allowed',
      () => token(rs256),
      { algorithms: ['ES256'] },
    ],
    ['a crit header', 'crit_unsupported', () => token(es256, claims(), { crit: ['exp'] })],
    [
      'an ES256 token naming an RSA key',
      'no_usable_key',
      () => signJws({ alg: 'ES256', kid: rs256.kid, typ: 'at+jwt' }, claims(), es256.privateKey),
    ],
    ['two parts', 'token_malformed', async () => 'eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ'],
    ['a header that is not JSON', 'token_malformed', async () => 'bm90IGpzb24.eyJhIjoxfQ.c2ln'],
    ['an empty kid', 'token_malformed', () => token(es256, claims(), { kid: '' })],
    [
      'a token over the size cap',
      'token_too_large',
      () => token(es256, claims({ pad: 'x'.repeat(600) })),
      { maxTokenBytes: 512 },
    ],
  ];

  // Every row gets its fourth element, so Jest never mistakes `overrides` for `done`.
  const rows = cases.map(
    ([name, reason, make, overrides]) => [name, reason, make, overrides ?? {}] as const,
  );
  it.each(rows)('refuses %s (%s)', async (_case, reason, make, overrides) => {
    const error = await refusal(verifyAccessToken(await make(), context(overrides)));
    expect(error.reason).toBe(reason);
    expect(error.error).toBe('invalid_token');
    expect(error.status).toBe(401);
    expect(error.description).not.toContain('eyJ');
  });

  it('names the failing claim for operators', async () => {
    const error = await refusal(
      verifyAccessToken(await token(es256, claims({ aud: 'https://x.example' })), context()),
    );
    expect(error).toMatchObject({ claim: 'aud', detail: 'no aud value is an accepted audience' });
  });
});

describe('verifyAccessToken: scopes', () => {
  it('passes when every required scope is granted', async () => {
    await expect(
      verifyAccessToken(await token(es256), context({ requiredScopes: ['reports:read'] })),
    ).resolves.toBeDefined();
  });

  it.each([
    [['admin'], 'reports:read reports:write'],
    [['reports:read', 'admin'], 'reports:read'],
    [['reports:read'], undefined],
    [['Reports:Read'], 'reports:read'],
  ])('refuses required %j with granted %j as insufficient_scope', async (required, granted) => {
    const error = await refusal(
      verifyAccessToken(
        await token(es256, claims({ scope: granted })),
        context({ requiredScopes: required }),
      ),
    );
    expect(error).toMatchObject({
      reason: 'scope_insufficient',
      error: 'insufficient_scope',
      requiredScopes: required,
    });
    expect(error.status).toBe(403);
  });
});

describe('verifyAccessToken: configuration', () => {
  it.each([
    ['HS256 in the allow-list', { algorithms: ['ES256', 'HS256'] }],
    ['none in the allow-list', { algorithms: ['none'] }],
    ['an empty allow-list', { algorithms: [] }],
    ['no audience', { audience: [] }],
    ['an empty audience', { audience: '' }],
    ['no issuer', { issuer: '' }],
    ['a negative leeway', { clockLeewaySeconds: -1 }],
  ])('refuses %s', async (_case, overrides) => {
    await expect(
      verifyAccessToken(
        await token(es256),
        context(overrides as Partial<VerifyAccessTokenContext>),
      ),
    ).rejects.toBeInstanceOf(ClientAuthConfigurationError);
  });

  it('is a 503 when the key source cannot answer, not a refused token', async () => {
    const broken: AccessTokenKeySource = {
      get: () => Promise.reject(new Error('connect ECONNREFUSED')),
      refresh: () => Promise.resolve(undefined),
    };
    const error = await verifyAccessToken(await token(es256), context({ keys: broken })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).status).toBe(503);
  });
});

describe('verifyAccessToken: remote keys (real HTTP, JwksCache)', () => {
  let server: Server;
  let jwksUri: string;
  let served: JWK[] = [];
  let requests = 0;
  let clock = NOW.getTime();

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    requests = 0;
    served = [es256.publicJwk];
  });

  function remote(): RemoteIssuerKeySource {
    const cache = new JwksCache({
      fetch: { allowHosts: ['127.0.0.1'] },
      cooldownSeconds: 30,
      now: () => clock,
    });
    return new RemoteIssuerKeySource({ issuer: ISSUER, jwksUri, keySets: cache });
  }

  it('fetches once and serves later tokens from the cache', async () => {
    const source = remote();
    await verifyAccessToken(await token(es256), context({ keys: source }));
    await verifyAccessToken(await token(es256), context({ keys: source }));
    expect(requests).toBe(1);
  });

  it('refuses an unknown kid after exactly one refetch, and does not refetch again within the cooldown', async () => {
    const source = remote();
    await verifyAccessToken(await token(es256), context({ keys: source }));
    expect(requests).toBe(1);
    const stranger = await signJws(
      { alg: 'ES256', kid: 'never-published', typ: 'at+jwt' },
      claims(),
      es256b.privateKey,
    );
    clock += 31_000; // past the cooldown of the first fetch
    const first = await refusal(verifyAccessToken(stranger, context({ keys: source })));
    expect(first.reason).toBe('kid_unknown');
    expect(requests).toBe(2);
    const again = await refusal(verifyAccessToken(stranger, context({ keys: source })));
    expect(again.reason).toBe('kid_unknown');
    expect(requests).toBe(2);
  });

  it('follows a key rotation: a new kid triggers the refetch that finds it', async () => {
    const source = remote();
    await verifyAccessToken(await token(es256), context({ keys: source }));
    served = [es256.publicJwk, es256b.publicJwk];
    clock += 31_000;
    const verified = await verifyAccessToken(await token(es256b), context({ keys: source }));
    expect(verified.kid).toBe(es256b.kid);
    expect(requests).toBe(2);
  });
});
