import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  ASYMMETRIC_ALGS,
  FakeKeySets,
  HMAC_ALGS,
  ISSUER,
  NOW,
  NOW_S,
  TOKEN_ENDPOINT,
  claimsFor,
  client,
  digestCredential,
  keyCredential,
  loadKey,
  secretCredential,
  secretOfLength,
  signJws,
  unsignedJws,
  withoutUndefined,
  type LoadedKey,
} from '../../../../test/fixtures/keys/helpers.js';
import type { FixtureAlg } from '../../../../test/fixtures/keys/index.js';
import {
  ClientAuthenticator,
  type ClientAuthenticationRequest,
  type ClientAuthObserver,
} from './authenticate-client.js';
import type {
  ClientAuthenticationFailure,
  ClientAuthenticationSuccess,
  ClientStore,
} from './clients/client-store.interface.js';
import { InMemoryClientStore } from './clients/in-memory-client-store.js';
import { digestSecret } from './crypto/secret-digest.js';
import {
  ClientAuthError,
  DependencyUnavailableError,
  GENERIC_CLIENT_AUTH_DESCRIPTION,
  type ClientAuthReason,
} from './errors.js';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE, type ClientAuthenticationSettings } from './options.js';
import { MemoryReplayStore } from './replay/memory-replay-store.js';
import { replayKey } from './replay/replay-key.js';
import type { ReplayStore } from './replay/replay-store.interface.js';
import type { RegisteredClient, TokenEndpointAuthMethod } from './types.js';

const SETTINGS: ClientAuthenticationSettings = { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT };
const ALL_METHODS: TokenEndpointAuthMethod[] = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
  'none',
];
const JWKS_URI = 'https://client.example.com/jwks.json';
/** A client id and secret full of characters RFC 6749 §2.3.1 form-urlencodes. */
const BASIC_ID = 'svc:1 é+%/';
const BASIC_SECRET = 'p@ss wörd:+%&=/?';
const POST_SECRET = 'post-secret-value';
const HMAC_SECRET = secretOfLength(64);

const keys = {} as Record<FixtureAlg, [LoadedKey, LoadedKey]>;
const stores: MemoryReplayStore[] = [];

beforeAll(async () => {
  for (const { fixture } of ASYMMETRIC_ALGS) {
    keys[fixture] = [await loadKey(fixture, 0), await loadKey(fixture, 1)];
  }
});

afterAll(() => {
  for (const store of stores) store.close();
});

function registrations(): RegisteredClient[] {
  return [
    client(
      'pkj',
      'private_key_jwt',
      ASYMMETRIC_ALGS.map(({ fixture }) => keyCredential(keys[fixture][0].publicJwk)),
    ),
    client('remote', 'private_key_jwt', [], { jwksUri: JWKS_URI }),
    client('csj', 'client_secret_jwt', [secretCredential(HMAC_SECRET)]),
    client(BASIC_ID, 'client_secret_basic', [
      digestCredential(digestSecret(BASIC_SECRET), { kid: 's1' }),
    ]),
    client('post', 'client_secret_post', [digestCredential(digestSecret(POST_SECRET))]),
    client('pub', 'none'),
    client('off', 'private_key_jwt', [keyCredential(keys.ES256[0].publicJwk)], { enabled: false }),
  ];
}

interface Harness {
  readonly authenticator: ClientAuthenticator;
  readonly clientStore: InMemoryClientStore;
  readonly replayStore: ReplayStore;
  readonly keySets: FakeKeySets;
  readonly successes: (ClientAuthenticationSuccess & { requestId?: string })[];
  readonly failures: ClientAuthenticationFailure[];
}

function harness(
  options: {
    settings?: Partial<ClientAuthenticationSettings>;
    replayStore?: ReplayStore;
    clientStore?: InMemoryClientStore;
    observer?: ClientAuthObserver;
  } = {},
): Harness {
  const successes: Harness['successes'] = [];
  const failures: Harness['failures'] = [];
  const clientStore = options.clientStore ?? new InMemoryClientStore(registrations());
  const replayStore =
    options.replayStore ??
    (() => {
      const store = new MemoryReplayStore({ purgeIntervalMs: 0, clock: () => NOW.getTime() });
      stores.push(store);
      return store;
    })();
  const keySets = new FakeKeySets([keys.ES256[0].publicJwk]);
  const authenticator = new ClientAuthenticator({
    settings: { ...SETTINGS, ...options.settings },
    clientStore,
    replayStore,
    keySets,
    observer: options.observer ?? {
      onSuccess: (event) => successes.push(event),
      onFailure: (event) => failures.push(event),
    },
  });
  return { authenticator, clientStore, replayStore, keySets, successes, failures };
}

function sign(
  key: LoadedKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return signJws(
    withoutUndefined({ alg: key.alg, kid: key.kid, ...header }),
    withoutUndefined(claims),
    key.privateKey,
  );
}

function signHmac(
  secret: string,
  alg: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
) {
  return signJws({ alg, ...header }, withoutUndefined(claims), new TextEncoder().encode(secret));
}

function assertionBody(assertion: string, extra: Record<string, unknown> = {}) {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  };
}

/** RFC 6749 §2.3.1 Basic credentials. */
function basic(id: string, secret: string): string {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

function request(overrides: Partial<ClientAuthenticationRequest>): ClientAuthenticationRequest {
  return { endpointUrl: TOKEN_ENDPOINT, now: NOW, requestId: 'req-1', ...overrides };
}

async function failure(promise: Promise<unknown>): Promise<ClientAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientAuthError) return error;
    throw error;
  }
  throw new Error('expected authentication to fail');
}

async function expectGeneric(
  promise: Promise<unknown>,
  reason: ClientAuthReason,
): Promise<ClientAuthError> {
  const error = await failure(promise);
  expect(error).toMatchObject({ reason, error: 'invalid_client' });
  expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
  return error;
}

async function expectSpecific(
  promise: Promise<unknown>,
  reason: ClientAuthReason,
): Promise<ClientAuthError> {
  const error = await failure(promise);
  expect(error).toMatchObject({ reason, error: 'invalid_client' });
  expect(error.description).not.toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
  return error;
}

describe('ClientAuthenticator: JWT methods per algorithm (SPEC S2)', () => {
  it.each(ASYMMETRIC_ALGS)(
    'private_key_jwt $alg authenticates, with and without client_id',
    async ({ alg, fixture }) => {
      const h = harness();
      const key = keys[fixture][0];
      for (const extra of [{ client_id: 'pkj' }, {}]) {
        const claims = claimsFor('pkj');
        const result = await h.authenticator.authenticate(
          request({ body: assertionBody(await sign(key, claims, { alg }), extra) }),
        );
        expect(result).toMatchObject({
          clientId: 'pkj',
          method: 'private_key_jwt',
          keyId: key.kid,
          credentialId: expect.any(String),
          assertion: { alg, jti: claims.jti, exp: NOW_S + 60, iat: NOW_S, audienceForm: 'issuer' },
        });
        expect(result.client.clientId).toBe('pkj');
      }
    },
  );

  it.each(HMAC_ALGS)('client_secret_jwt $alg authenticates', async ({ alg }) => {
    const h = harness();
    const result = await h.authenticator.authenticate(
      request({ body: assertionBody(await signHmac(HMAC_SECRET, alg, claimsFor('csj'))) }),
    );
    expect(result).toMatchObject({
      clientId: 'csj',
      method: 'client_secret_jwt',
      assertion: { alg },
    });
  });

  it('a jwks_uri client authenticates through the key-set provider', async () => {
    const h = harness();
    const result = await h.authenticator.authenticate(
      request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('remote'))) }),
    );
    expect(result).toMatchObject({ clientId: 'remote', keyId: keys.ES256[0].kid });
    expect(result.credentialId).toBeUndefined();
    expect(h.keySets.getCalls).toBe(1);
  });

  it('uses the current time when no now is given', async () => {
    const h = harness({ replayStore: new MemoryReplayStore({ purgeIntervalMs: 0 }) });
    const now = Math.floor(Date.now() / 1000);
    const claims = claimsFor('pkj', { iat: now, exp: now + 60 });
    await expect(
      h.authenticator.authenticate({ body: assertionBody(await sign(keys.ES256[0], claims)) }),
    ).resolves.toMatchObject({ clientId: 'pkj' });
    // Checked at the injected NOW (years later) the same claims have expired: now was honoured.
    const h2 = harness();
    await expectSpecific(
      h2.authenticator.authenticate(
        request({
          body: assertionBody(
            await sign(keys.ES256[0], claimsFor('pkj', { iat: now, exp: now + 60, jti: 'x' })),
          ),
        }),
      ),
      'assertion_expired',
    );
  });
});

describe('ClientAuthenticator: secret methods (RFC 6749 §2.3.1)', () => {
  it('client_secret_basic with form-urlencoded id and secret characters', async () => {
    const h = harness();
    const result = await h.authenticator.authenticate(
      request({ authorization: basic(BASIC_ID, BASIC_SECRET) }),
    );
    expect(result).toMatchObject({
      clientId: BASIC_ID,
      method: 'client_secret_basic',
      keyId: 's1',
      credentialId: expect.any(String),
    });
    expect(result.assertion).toBeUndefined();
  });

  it('client_secret_post', async () => {
    const h = harness();
    await expect(
      h.authenticator.authenticate(
        request({ body: { client_id: 'post', client_secret: POST_SECRET } }),
      ),
    ).resolves.toMatchObject({ clientId: 'post', method: 'client_secret_post' });
  });

  it.each([
    ['a wrong secret', BASIC_SECRET + 'x'],
    ['the secret unencoded-then-decoded differently', BASIC_SECRET.replace(' ', '+')],
    ['an empty-looking secret', ' '],
  ])('basic with %s → secret_invalid (generic)', async (_name, secret) => {
    const h = harness();
    await expectGeneric(
      h.authenticator.authenticate(request({ authorization: basic(BASIC_ID, secret) })),
      'secret_invalid',
    );
  });

  it('post with a wrong secret → secret_invalid (generic)', async () => {
    const h = harness();
    await expectGeneric(
      h.authenticator.authenticate(request({ body: { client_id: 'post', client_secret: 'nope' } })),
      'secret_invalid',
    );
  });

  it.each([
    ['revoked', { status: 'revoked' as const }, false],
    ['expired', { expiresAt: new Date(NOW.getTime() - 1000) }, false],
    ['not yet valid', { notBefore: new Date(NOW.getTime() + 1000) }, false],
    [
      'inside its window',
      { notBefore: new Date(NOW.getTime() - 1000), expiresAt: new Date(NOW.getTime() + 1000) },
      true,
    ],
  ])('a %s secret digest', async (_name, overrides, ok) => {
    const clientStore = new InMemoryClientStore([
      client('post', 'client_secret_post', [
        digestCredential(digestSecret(POST_SECRET), overrides),
      ]),
    ]);
    const h = harness({ clientStore });
    const result = h.authenticator.authenticate(
      request({ body: { client_id: 'post', client_secret: POST_SECRET } }),
    );
    if (ok) await expect(result).resolves.toMatchObject({ clientId: 'post' });
    else await expectGeneric(result, 'secret_invalid');
  });

  it('accepts any active secret during rotation and reports which one matched', async () => {
    const clientStore = new InMemoryClientStore([
      client('post', 'client_secret_post', [
        digestCredential(digestSecret('old-secret'), { id: 'old' }),
        digestCredential(digestSecret('new-secret'), { id: 'new' }),
      ]),
    ]);
    const h = harness({ clientStore });
    for (const [secret, id] of [
      ['old-secret', 'old'],
      ['new-secret', 'new'],
    ]) {
      await expect(
        h.authenticator.authenticate(
          request({ body: { client_id: 'post', client_secret: secret } }),
        ),
      ).resolves.toMatchObject({ credentialId: id });
    }
  });

  it('a client_secret_jwt raw secret is not accepted as a basic secret', async () => {
    const clientStore = new InMemoryClientStore([
      client('c', 'client_secret_basic', [secretCredential(HMAC_SECRET)]),
    ]);
    const h = harness({ clientStore });
    await expectGeneric(
      h.authenticator.authenticate(request({ authorization: basic('c', HMAC_SECRET) })),
      'secret_invalid',
    );
  });
});

describe('ClientAuthenticator: method registered vs method used (SPEC S2.3)', () => {
  /** How a request uses each method, for a client id. */
  async function using(
    method: TokenEndpointAuthMethod,
    clientId: string,
  ): Promise<Partial<ClientAuthenticationRequest>> {
    switch (method) {
      case 'client_secret_basic':
        return { authorization: basic(clientId, 'some-secret') };
      case 'client_secret_post':
        return { body: { client_id: clientId, client_secret: 'some-secret' } };
      case 'none':
        return { body: { client_id: clientId } };
      case 'client_secret_jwt':
        return { body: assertionBody(await signHmac(HMAC_SECRET, 'HS256', claimsFor(clientId))) };
      case 'private_key_jwt':
        return { body: assertionBody(await sign(keys.ES256[0], claimsFor(clientId))) };
    }
  }

  const pairs = ALL_METHODS.flatMap((registered) =>
    ALL_METHODS.filter((used) => used !== registered).map((used) => [registered, used] as const),
  );

  it.each(pairs)(
    'a client registered for %s using %s → method_not_registered (generic)',
    async (registered, used) => {
      const clientStore = new InMemoryClientStore([
        client('c', registered, [
          keyCredential(keys.ES256[0].publicJwk),
          secretCredential(HMAC_SECRET),
          digestCredential(digestSecret('some-secret')),
        ]),
      ]);
      const h = harness({ clientStore });
      const error = await expectGeneric(
        h.authenticator.authenticate(
          request({ ...(await using(used, 'c')), allowedMethods: ALL_METHODS }),
        ),
        'method_not_registered',
      );
      expect(error.detail).toContain(registered);
    },
  );

  it.each(ALL_METHODS)(
    'a client registered for %s using it passes the method check',
    async (method) => {
      const clientStore = new InMemoryClientStore([
        client('c', method, [
          keyCredential(keys.ES256[0].publicJwk),
          secretCredential(HMAC_SECRET),
          digestCredential(digestSecret('some-secret')),
        ]),
      ]);
      const h = harness({ clientStore });
      await expect(
        h.authenticator.authenticate(
          request({ ...(await using(method, 'c')), allowedMethods: ALL_METHODS }),
        ),
      ).resolves.toMatchObject({ clientId: 'c', method });
    },
  );

  it('algorithm confusion: HS256 MACed with the RSA public key never reaches a private_key_jwt verifier', async () => {
    const h = harness();
    const rsa = keys.RS256[0];
    for (const secret of [JSON.stringify(rsa.publicJwk), rsa.publicJwk.n as string]) {
      const assertion = await signHmac(secret, 'HS256', claimsFor('pkj'), { kid: rsa.kid });
      await expectGeneric(
        h.authenticator.authenticate(request({ body: assertionBody(assertion) })),
        'method_not_registered',
      );
    }
  });

  it('alg none for a private_key_jwt client → alg_not_allowed (generic)', async () => {
    const h = harness();
    await expectGeneric(
      h.authenticator.authenticate(request({ body: assertionBody(unsignedJws(claimsFor('pkj'))) })),
      'alg_not_allowed',
    );
  });
});

describe('ClientAuthenticator: methods allowed at the endpoint', () => {
  it('refuses none unless the endpoint allows it', async () => {
    const h = harness();
    await expectGeneric(
      h.authenticator.authenticate(request({ body: { client_id: 'pub' } })),
      'method_not_allowed_here',
    );
    await expect(
      h.authenticator.authenticate(
        request({ body: { client_id: 'pub' }, allowedMethods: ['none', 'private_key_jwt'] }),
      ),
    ).resolves.toEqual({
      clientId: 'pub',
      method: 'none',
      client: expect.objectContaining({ clientId: 'pub' }),
    });
  });

  it('an endpoint list narrows the methods', async () => {
    const h = harness();
    await expectGeneric(
      h.authenticator.authenticate(
        request({
          authorization: basic(BASIC_ID, BASIC_SECRET),
          allowedMethods: ['private_key_jwt'],
        }),
      ),
      'method_not_allowed_here',
    );
  });

  it('settings.allowedMethods narrows the default', async () => {
    const h = harness({ settings: { allowedMethods: ['private_key_jwt'] } });
    await expectGeneric(
      h.authenticator.authenticate(
        request({ body: assertionBody(await signHmac(HMAC_SECRET, 'HS256', claimsFor('csj'))) }),
      ),
      'method_not_allowed_here',
    );
    await expect(
      h.authenticator.authenticate(
        request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('pkj'))) }),
      ),
    ).resolves.toMatchObject({ clientId: 'pkj' });
  });

  it('checks the endpoint before looking the client up', async () => {
    let lookups = 0;
    const clientStore = new InMemoryClientStore(registrations());
    const counting = Object.assign(Object.create(clientStore) as InMemoryClientStore, {
      findClient: (id: string) => {
        lookups++;
        return clientStore.findClient(id);
      },
    });
    const h = harness({ clientStore: counting });
    await expectGeneric(
      h.authenticator.authenticate(request({ body: { client_id: 'pub' } })),
      'method_not_allowed_here',
    );
    expect(lookups).toBe(0);
  });
});

describe('ClientAuthenticator: unknown and disabled clients, generic before the signature (SPEC S2.9)', () => {
  it.each([
    ['an unknown client by client_id', 'client_unknown', { client_id: 'ghost' }, 'ghost'],
    ['an unknown client by sub', 'client_unknown', {}, 'ghost'],
    ['a disabled client', 'client_disabled', { client_id: 'off' }, 'off'],
  ] as const)('%s → %s', async (_name, reason, extra, clientId) => {
    const h = harness();
    const error = await expectGeneric(
      h.authenticator.authenticate(
        request({ body: assertionBody(await sign(keys.ES256[0], claimsFor(clientId)), extra) }),
      ),
      reason,
    );
    expect(error.description).toBe('client authentication failed');
    expect(error.status).toBe(401);
  });

  it.each([
    ['unknown', { authorization: basic('ghost', 'x') }, 'client_unknown'],
    ['disabled', { body: { client_id: 'off', client_secret: 'x' } }, 'client_disabled'],
  ] as const)('a secret method for a %s client → generic %s', async (_name, input, reason) => {
    const h = harness();
    await expectGeneric(h.authenticator.authenticate(request(input)), reason);
  });

  it('the description becomes specific once the signature verified', async () => {
    const h = harness();
    const error = await expectSpecific(
      h.authenticator.authenticate(
        request({
          body: assertionBody(
            await sign(keys.ES256[0], claimsFor('pkj', { exp: NOW_S - 100, iat: NOW_S - 200 })),
          ),
        }),
      ),
      'assertion_expired',
    );
    expect(error.description).toBe('the assertion has expired');
  });

  it('a bad signature stays generic even when the claims are also wrong', async () => {
    const h = harness();
    const forged = await sign(keys.ES256[1], claimsFor('pkj', { aud: 'https://elsewhere' }), {
      kid: keys.ES256[0].kid,
    });
    await expectGeneric(
      h.authenticator.authenticate(request({ body: assertionBody(forged) })),
      'signature_invalid',
    );
  });
});

describe('ClientAuthenticator: client_id and the assertion iss/sub (SPEC S2.3)', () => {
  it.each([
    ['client_id differs from iss and sub', { client_id: 'other' }, {}, 'client_id_mismatch'],
    [
      'client_id equals sub but not iss',
      { client_id: 'pkj' },
      { iss: 'other' },
      'client_id_mismatch',
    ],
    [
      'client_id equals iss but not sub',
      { client_id: 'pkj' },
      { sub: 'other' },
      'client_id_mismatch',
    ],
    ['no client_id and no sub', {}, { sub: undefined }, 'client_id_missing'],
    ['no client_id and an empty sub', {}, { sub: '' }, 'client_id_missing'],
    ['no client_id and a numeric sub', {}, { sub: 42 }, 'client_id_missing'],
  ] as const)('%s → %s (generic)', async (_name, extra, claims, reason) => {
    const h = harness();
    const assertion = await sign(keys.ES256[0], claimsFor('pkj', claims));
    await expectGeneric(
      h.authenticator.authenticate(request({ body: assertionBody(assertion, extra) })),
      reason,
    );
  });

  it('without client_id, a sub naming the client but an iss that does not → iss_mismatch after the signature', async () => {
    const h = harness();
    const assertion = await sign(keys.ES256[0], claimsFor('pkj', { iss: 'someone-else' }));
    await expectSpecific(
      h.authenticator.authenticate(request({ body: assertionBody(assertion) })),
      'iss_mismatch',
    );
  });

  it('a malformed or oversized assertion is refused before the lookup', async () => {
    const h = harness({ settings: { maxAssertionBytes: 512 } });
    await expectGeneric(
      h.authenticator.authenticate(request({ body: assertionBody('not-a-jwt') })),
      'assertion_malformed',
    );
    const big = await sign(keys.ES256[0], claimsFor('pkj', { pad: 'x'.repeat(600) }));
    await expectGeneric(
      h.authenticator.authenticate(request({ body: assertionBody(big) })),
      'assertion_too_large',
    );
    expect(h.failures.map((f) => f.reason)).toEqual(['assertion_malformed', 'assertion_too_large']);
  });

  it('the default size cap is 8 KiB', async () => {
    const h = harness();
    const big = await sign(keys.ES256[0], claimsFor('pkj', { pad: 'x'.repeat(8192) }));
    await expectGeneric(
      h.authenticator.authenticate(request({ body: assertionBody(big) })),
      'assertion_too_large',
    );
  });
});

describe('ClientAuthenticator: jti single use (SPEC S2.7, S5)', () => {
  it('a second use of an assertion → jti_replayed with an exposed description', async () => {
    const h = harness();
    const body = assertionBody(await sign(keys.ES256[0], claimsFor('pkj')));
    await h.authenticator.authenticate(request({ body }));
    const error = await expectSpecific(
      h.authenticator.authenticate(request({ body })),
      'jti_replayed',
    );
    expect(error.description).toBe('the assertion jti was already used');
    expect(error.claim).toBe('jti');
  });

  it.each(HMAC_ALGS)('a replayed $alg assertion is refused too', async ({ alg }) => {
    const h = harness();
    const body = assertionBody(await signHmac(HMAC_SECRET, alg, claimsFor('csj')));
    await h.authenticator.authenticate(request({ body }));
    await expectSpecific(h.authenticator.authenticate(request({ body })), 'jti_replayed');
  });

  it('a fresh assertion reusing a jti is a replay; another client may use the same jti', async () => {
    const h = harness();
    const jti = 'shared-jti';
    await h.authenticator.authenticate(
      request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('pkj', { jti }))) }),
    );
    await expectSpecific(
      h.authenticator.authenticate(
        request({ body: assertionBody(await sign(keys.ES384[0], claimsFor('pkj', { jti }))) }),
      ),
      'jti_replayed',
    );
    await expect(
      h.authenticator.authenticate(
        request({
          body: assertionBody(await signHmac(HMAC_SECRET, 'HS256', claimsFor('csj', { jti }))),
        }),
      ),
    ).resolves.toMatchObject({ clientId: 'csj' });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, ClientAuthReason]>([
    ['wrong audience', { aud: 'https://elsewhere.example' }, {}, 'aud_not_accepted'],
    ['expired', { exp: NOW_S - 100, iat: NOW_S - 200 }, {}, 'assertion_expired'],
    ['lifetime too long', { exp: NOW_S + 299, iat: NOW_S - 10 }, {}, 'lifetime_too_long'],
    ['wrong iss', { iss: 'x' }, { client_id: undefined }, 'iss_mismatch'],
    ['forbidden header', {}, { header: { jku: 'https://x' } }, 'header_key_forbidden'],
    ['bad signature', {}, { forge: true }, 'signature_invalid'],
    ['client_id mismatch', {}, { client_id: 'other' }, 'client_id_mismatch'],
  ])('a failed request (%s) does not consume its jti', async (_name, claims, how, reason) => {
    const h = harness();
    const jti = `jti-${reason}`;
    const key = how.forge ? keys.ES256[1] : keys.ES256[0];
    const invalid = await sign(key, claimsFor('pkj', { ...claims, jti }), {
      kid: keys.ES256[0].kid,
      ...(how.header as Record<string, unknown>),
    });
    const extra = how.client_id ? { client_id: how.client_id } : {};
    await failure(
      h.authenticator.authenticate(request({ body: assertionBody(invalid, extra) })),
    ).then((e) => expect(e.reason).toBe(reason));
    const valid = await sign(keys.ES256[0], claimsFor('pkj', { jti }));
    await expect(
      h.authenticator.authenticate(request({ body: assertionBody(valid) })),
    ).resolves.toMatchObject({
      clientId: 'pkj',
      assertion: { jti },
    });
  });

  it('of concurrent requests carrying one assertion, exactly one succeeds', async () => {
    const h = harness();
    const body = assertionBody(await sign(keys.ES256[0], claimsFor('pkj')));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 25 }, () => h.authenticator.authenticate(request({ body }))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const reasons = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => (o.reason as ClientAuthError).reason);
    expect(reasons).toEqual(Array(24).fill('jti_replayed'));
  });

  it('stores the jti until exp + leeway under the method-scoped replay key', async () => {
    const calls: [string, Date][] = [];
    const inner = new MemoryReplayStore({ purgeIntervalMs: 0, clock: () => NOW.getTime() });
    stores.push(inner);
    const recording: ReplayStore = {
      consume: (key, expiresAt) => {
        calls.push([key, expiresAt]);
        return inner.consume(key, expiresAt);
      },
    };
    const h = harness({ replayStore: recording, settings: { clockLeewaySeconds: 10 } });
    const claims = claimsFor('pkj', { exp: NOW_S + 120 });
    await h.authenticator.authenticate(
      request({ body: assertionBody(await sign(keys.ES256[0], claims)) }),
    );
    expect(calls).toEqual([
      [replayKey('private_key_jwt', 'pkj', claims.jti as string), new Date((NOW_S + 130) * 1000)],
    ]);
  });

  it('never consumes the jti of a request that failed before the signature', async () => {
    const calls: string[] = [];
    const h = harness({
      replayStore: {
        consume: (key) => {
          calls.push(key);
          return Promise.resolve(true);
        },
      },
    });
    await failure(
      h.authenticator.authenticate(
        request({
          body: assertionBody(
            await sign(keys.ES256[1], claimsFor('pkj'), { kid: keys.ES256[0].kid }),
          ),
        }),
      ),
    );
    await failure(
      h.authenticator.authenticate(
        request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('ghost'))) }),
      ),
    );
    expect(calls).toEqual([]);
  });
});

describe('ClientAuthenticator: dependency outages are 503, never invalid_client (SPEC S10)', () => {
  it.each([
    ['throws a plain error', () => Promise.reject(new Error('ECONNREFUSED'))],
    [
      'throws DependencyUnavailableError',
      () => Promise.reject(new DependencyUnavailableError('redis')),
    ],
  ])('a replay store that %s → DependencyUnavailableError', async (_name, consume) => {
    const h = harness({ replayStore: { consume } });
    const error = await h.authenticator
      .authenticate(request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('pkj'))) }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).not.toBeInstanceOf(ClientAuthError);
    expect((error as DependencyUnavailableError).status).toBe(503);
    expect(h.failures).toEqual([
      expect.objectContaining({ reason: 'store_unavailable', clientId: 'pkj' }),
    ]);
  });

  it('a full MemoryReplayStore answers 503', async () => {
    const store = new MemoryReplayStore({
      purgeIntervalMs: 0,
      maxEntries: 1,
      clock: () => NOW.getTime(),
    });
    stores.push(store);
    const h = harness({ replayStore: store });
    await h.authenticator.authenticate(
      request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('pkj'))) }),
    );
    await expect(
      h.authenticator.authenticate(
        request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('pkj'))) }),
      ),
    ).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('a client store that throws → DependencyUnavailableError', async () => {
    const broken: ClientStore = { findClient: () => Promise.reject(new Error('db down')) };
    const authenticator = new ClientAuthenticator({
      settings: SETTINGS,
      clientStore: broken,
      replayStore: new MemoryReplayStore({ purgeIntervalMs: 0 }),
      keySets: new FakeKeySets([]),
    });
    const error = await authenticator
      .authenticate(request({ authorization: basic('a', 'b') }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe('client-store');
  });
});

describe('ClientAuthenticator: reporting (SPEC S2.8, S2.9)', () => {
  it('reports a success to the observer and the client store, with audience form and typ', async () => {
    const h = harness();
    const assertion = await sign(keys.ES256[0], claimsFor('pkj'), {
      typ: 'client-authentication+jwt',
    });
    await h.authenticator.authenticate(
      request({ body: assertionBody(assertion), requestId: 'r-42' }),
    );
    const expected = {
      clientId: 'pkj',
      method: 'private_key_jwt',
      credentialId: expect.any(String),
      audienceForm: 'issuer',
      typ: 'client-authentication+jwt',
      at: NOW,
    };
    expect(h.successes).toEqual([{ ...expected, requestId: 'r-42' }]);
    expect(h.clientStore.successes).toEqual([expected]);
    expect(h.clientStore.lastSuccess('pkj')).toMatchObject({ audienceForm: 'issuer' });
  });

  it('reports a failure with reason, named client, method and request id', async () => {
    const h = harness();
    await failure(
      h.authenticator.authenticate(
        request({ authorization: basic(BASIC_ID, 'wrong'), requestId: 'r-7' }),
      ),
    );
    const expected = {
      clientId: BASIC_ID,
      reason: 'secret_invalid',
      detail: 'the client secret does not match',
      method: 'client_secret_basic',
      requestId: 'r-7',
      at: NOW,
    };
    expect(h.failures).toEqual([expected]);
    expect(h.clientStore.failures).toEqual([expected]);
  });

  it('reports request-shape failures (invalid_request) too', async () => {
    const h = harness();
    const error = await failure(
      h.authenticator.authenticate(
        request({ authorization: basic('a', 'b'), body: { client_id: 'a', client_secret: 'b' } }),
      ),
    );
    expect(error).toMatchObject({ error: 'invalid_request', reason: 'multiple_methods' });
    expect(error.status).toBe(400);
    expect(h.failures).toEqual([expect.objectContaining({ reason: 'multiple_methods' })]);
  });

  it('never lets a throwing or rejecting observer or store change the outcome', async () => {
    const clientStore = new InMemoryClientStore(registrations());
    clientStore.recordSuccess = () => {
      throw new Error('audit down');
    };
    clientStore.recordFailure = () => {
      throw new Error('audit down');
    };
    const h = harness({
      clientStore,
      observer: {
        onSuccess: () => {
          throw new Error('metrics down');
        },
        onFailure: (() =>
          Promise.reject(
            new Error('async metrics down'),
          )) as unknown as ClientAuthObserver['onFailure'],
      },
    });
    await expect(
      h.authenticator.authenticate(
        request({ body: { client_id: 'post', client_secret: POST_SECRET } }),
      ),
    ).resolves.toMatchObject({ clientId: 'post' });
    await expectGeneric(
      h.authenticator.authenticate(request({ body: { client_id: 'post', client_secret: 'bad' } })),
      'secret_invalid',
    );
  });

  it('never puts the secret or the assertion in a failure record', async () => {
    const h = harness();
    const assertion = await sign(
      keys.ES256[0],
      claimsFor('pkj', { aud: 'https://elsewhere.example' }),
    );
    await failure(h.authenticator.authenticate(request({ body: assertionBody(assertion) })));
    await failure(
      h.authenticator.authenticate(request({ authorization: basic(BASIC_ID, 'hunter2-secret') })),
    );
    const recorded = JSON.stringify(h.failures);
    expect(recorded).not.toContain('hunter2-secret');
    expect(recorded).not.toContain(assertion.split('.')[2]);
    expect(recorded).not.toContain(assertion.split('.')[1]);
  });
});

describe('ClientAuthenticator: audience policy per client (SPEC S2.8)', () => {
  it.each([
    [undefined, undefined, TOKEN_ENDPOINT, 'token_endpoint'],
    ['strict', undefined, TOKEN_ENDPOINT, 'aud_not_issuer'],
    ['strict', 'compat', TOKEN_ENDPOINT, 'token_endpoint'],
    [undefined, 'strict', TOKEN_ENDPOINT, 'aud_not_issuer'],
    ['strict', undefined, ISSUER, 'issuer'],
  ] as const)('global %p, client %p, aud %s → %s', async (global, perClient, aud, outcome) => {
    const clientStore = new InMemoryClientStore([
      client(
        'c',
        'private_key_jwt',
        [keyCredential(keys.ES256[0].publicJwk)],
        perClient ? { audiencePolicy: perClient } : {},
      ),
    ]);
    const h = harness({ clientStore, settings: global ? { audiencePolicy: global } : {} });
    const result = h.authenticator.authenticate(
      request({ body: assertionBody(await sign(keys.ES256[0], claimsFor('c', { aud }))) }),
    );
    if (outcome.startsWith('aud_')) await expectSpecific(result, outcome as ClientAuthReason);
    else await expect(result).resolves.toMatchObject({ assertion: { audienceForm: outcome } });
  });
});
