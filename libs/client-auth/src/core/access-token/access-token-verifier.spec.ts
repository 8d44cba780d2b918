import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  NOW,
  NOW_S,
  loadKey,
  signJws,
  type LoadedKey,
} from '../../../../../test/fixtures/keys/helpers.js';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../../../../test/utils/loopback-http.js';
import { DependencyUnavailableError } from '../errors.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import { AccessTokenError } from './access-token-error.js';
import { AccessTokenVerifier, type AccessTokenVerifierOptions } from './access-token-verifier.js';

const ISSUER = 'https://as.example.com';
const API = 'https://api.example.com';

let es256: LoadedKey;
let server: LoopbackServer;
let answers: Record<string, Record<string, unknown>>;

beforeAll(async () => {
  es256 = await loadKey('ES256', 0);
  server = await startLoopbackServer((request, response) => {
    if (request.headers.authorization === undefined) {
      return sendJson(response, 401, { error: 'invalid_client' });
    }
    sendJson(response, 200, answers[request.form.get('token') ?? ''] ?? { active: false });
  });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  answers = {
    good: {
      active: true,
      iss: ISSUER,
      aud: [API],
      client_id: 'billing',
      sub: 'billing',
      scope: 'reports:read',
      exp: NOW_S + 300,
    },
  };
});

function jwt(): Promise<string> {
  return signJws(
    { alg: 'ES256', kid: es256.kid, typ: 'at+jwt' },
    { iss: ISSUER, aud: API, sub: 'billing', client_id: 'billing', exp: NOW_S + 60 },
    es256.privateKey,
  );
}

function verifier(overrides: Partial<AccessTokenVerifierOptions> = {}): AccessTokenVerifier {
  return new AccessTokenVerifier({
    issuer: ISSUER,
    audience: API,
    introspection: {
      endpoint: `${server.url}/introspect`,
      clientId: 'reports-api',
      clientSecret: 's3cret',
    },
    ...overrides,
  });
}

async function refusal(promise: Promise<unknown>): Promise<AccessTokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AccessTokenError);
  return error as AccessTokenError;
}

describe('AccessTokenVerifier: modes', () => {
  it('defaults to jwt without introspection, introspection with it, auto with both', () => {
    expect(
      new AccessTokenVerifier({ issuer: ISSUER, audience: API, jwks: { keys: [es256.publicJwk] } })
        .mode,
    ).toBe('jwt');
    expect(verifier().mode).toBe('introspection');
    expect(verifier({ jwks: { keys: [es256.publicJwk] } }).mode).toBe('auto');
  });

  it('in auto mode checks JWTs locally and introspects opaque tokens', async () => {
    const v = verifier({ jwks: { keys: [es256.publicJwk] } });
    await expect(v.verify(await jwt(), { now: NOW })).resolves.toMatchObject({ source: 'jwt' });
    expect(server.requests).toHaveLength(0);
    await expect(v.verify('good', { now: NOW })).resolves.toMatchObject({
      source: 'introspection',
      clientId: 'billing',
      scopes: ['reports:read'],
      audience: [API],
    });
    expect(server.requests).toHaveLength(1);
  });

  it('in introspection mode sends JWTs to the endpoint too', async () => {
    const v = verifier();
    await refusal(v.verify(await jwt(), { now: NOW }));
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['two key sources', { jwks: { keys: [] }, jwksUri: 'https://as.example.com/jwks' }],
    [
      'introspection mode without introspection',
      { mode: 'introspection', introspection: undefined },
    ],
  ])('refuses %s', (_case, overrides) => {
    expect(() => verifier(overrides as Partial<AccessTokenVerifierOptions>)).toThrow(
      ClientAuthConfigurationError,
    );
  });
});

describe('AccessTokenVerifier: introspection answers', () => {
  it('refuses an inactive token as invalid_token', async () => {
    const error = await refusal(verifier().verify('revoked', { now: NOW }));
    expect(error).toMatchObject({ reason: 'token_inactive', error: 'invalid_token' });
  });

  it.each([
    ['another audience', { aud: 'https://other.example.com' }, 'aud_mismatch'],
    ['no audience (aud is always checked)', { aud: undefined }, 'aud_missing'],
    ['another issuer', { iss: 'https://evil.example.com' }, 'iss_mismatch'],
    ['a passed exp', { exp: NOW_S - 60 }, 'token_expired'],
    ['an nbf in the future', { nbf: NOW_S + 600 }, 'nbf_in_future'],
  ] as const)('refuses an active answer with %s', async (_case, change, reason) => {
    answers.odd = { ...answers.good, ...change };
    const error = await refusal(verifier().verify('odd', { now: NOW }));
    expect(error.reason).toBe(reason);
  });

  it('accepts an answer without iss (optional in RFC 7662 §2.2) as from the issuer', async () => {
    answers.noiss = { ...answers.good, iss: undefined };
    await expect(verifier().verify('noiss', { now: NOW })).resolves.toMatchObject({
      issuer: ISSUER,
    });
  });

  it('checks required scopes of an introspected token', async () => {
    const error = await refusal(
      verifier().verify('good', { now: NOW, requiredScopes: ['reports:write'] }),
    );
    expect(error).toMatchObject({ error: 'insufficient_scope', requiredScopes: ['reports:write'] });
  });

  it('is a 503, not a refused token, when the endpoint refuses our credentials', async () => {
    const v = verifier({
      introspection: {
        endpoint: `${server.url}/introspect`,
        clientId: 'reports-api',
        clientAssertion: () => 'not-a-valid-assertion',
      },
    });
    // The loopback endpoint answers 401 to requests without Basic credentials.
    const error = await v.verify('good', { now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ dependency: 'introspection', status: 503 });
  });
});
