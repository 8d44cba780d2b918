import { beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWK } from 'jose';
import { generateTestKey, type TestKeyPair } from '../../../../../test/utils/assertions.js';
import { ClientAuthError } from '../errors.js';
import type { KeySetSnapshot, RemoteKeySetProvider } from '../jwks/remote-key-set.interface.js';
import type { FederatedCredential } from '../types.js';
import {
  DEFAULT_FEDERATED_MAX_LIFETIME_SECONDS,
  nearMissIssuer,
  verifyFederatedAssertion,
  type FederatedAssertionContext,
} from './verify-federated-assertion.js';

const ISSUER = 'https://oidc.ci.example.com';
const AUDIENCE = 'https://as.example.com';
const SUBJECT = 'repo:acme/api:ref:refs/heads/main';
const NOW_S = 1_900_000_000;
const NOW = new Date(NOW_S * 1000);

/** Static-key credentials never touch remote key sets: any call is a test failure. */
const noRemoteKeys: RemoteKeySetProvider = {
  get: (uri: string): Promise<KeySetSnapshot> => Promise.reject(new Error(`fetched ${uri}`)),
  refresh: (uri: string) => Promise.reject(new Error(`refreshed ${uri}`)),
};

let keys: TestKeyPair[];

beforeAll(async () => {
  keys = await Promise.all([1, 2, 3, 4, 5, 6].map(() => generateTestKey('ES256')));
});

function credential(id: string, jwk: JWK, overrides: Partial<FederatedCredential> = {}) {
  return {
    id,
    clientId: `client-${id}`,
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    jwks: { keys: [jwk] },
    replay: 'single_use',
    status: 'active',
    ...overrides,
  } satisfies FederatedCredential;
}

async function token(key: TestKeyPair, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    sub: SUBJECT,
    aud: AUDIENCE,
    iat: NOW_S,
    exp: NOW_S + 300,
    jti: `jti-${Math.random()}`,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

function verify(jws: string, context: Partial<FederatedAssertionContext>) {
  return verifyFederatedAssertion(jws, decodeProtectedHeader(jws), decodeJwt(jws), {
    candidates: [],
    keySets: noRemoteKeys,
    leewaySeconds: 30,
    now: NOW,
    ...context,
  });
}

describe('verifyFederatedAssertion', () => {
  it('resolves the matching credential and the token facts; the jti is left to the caller', async () => {
    const jws = await token(keys[0]!, { jti: 'abc' });
    const candidate = credential('a', keys[0]!.publicJwk);
    await expect(verify(jws, { candidates: [candidate] })).resolves.toEqual({
      credential: candidate,
      alg: 'ES256',
      kid: keys[0]!.kid,
      subject: SUBJECT,
      exp: NOW_S + 300,
      iat: NOW_S,
      jti: 'abc',
    });
  });

  it('caps the lifetime at one hour by default', () => {
    expect(DEFAULT_FEDERATED_MAX_LIFETIME_SECONDS).toBe(3600);
  });

  it('a reusable credential needs no jti', async () => {
    const jws = await token(keys[0]!, { jti: undefined });
    const result = await verify(jws, {
      candidates: [credential('a', keys[0]!.publicJwk, { replay: 'reuse_within_lifetime' })],
    });
    expect(result.jti).toBeUndefined();
  });

  it('matches only credentials whose own keys verified the token', async () => {
    // Two clients trust the same issuer name with different static keys and the same subject.
    const first = credential('a', keys[0]!.publicJwk);
    const second = credential('b', keys[1]!.publicJwk);
    const bySecond = await verify(await token(keys[1]!), { candidates: [first, second] });
    expect(bySecond.credential.id).toBe('b');
    const byFirst = await verify(await token(keys[0]!), { candidates: [first, second] });
    expect(byFirst.credential.id).toBe('a');
  });

  it('credentials sharing one key source all stay candidates', async () => {
    const shared = keys[0]!.publicJwk;
    const candidates = [
      credential('a', shared, { subject: 'repo:acme/web:ref:refs/heads/main' }),
      credential('b', shared),
    ];
    const result = await verify(await token(keys[0]!), { candidates });
    expect(result.credential.id).toBe('b');
  });

  it('reports the most specific signature failure over all key sources', async () => {
    const stranger = await generateTestKey('ES256', keys[1]!.kid);
    // One source lacks the kid, the other has it but the signature does not verify.
    const candidates = [credential('a', keys[0]!.publicJwk), credential('b', keys[1]!.publicJwk)];
    const error = await verify(await token(stranger), { candidates }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientAuthError);
    expect((error as ClientAuthError).reason).toBe('signature_invalid');
  });

  it('tries at most five key sources of one issuer; client_id narrows them first', async () => {
    const candidates = keys.map((key, i) => credential(String(i), key.publicJwk));
    const sixth = await token(keys[5]!);
    const error = await verify(sixth, { candidates }).catch((e: unknown) => e);
    expect((error as ClientAuthError).reason).toBe('kid_unknown');
    await expect(
      verify(sixth, { candidates, requestedClientId: 'client-5' }),
    ).resolves.toMatchObject({ credential: { id: '5' } });
  });
});

describe('nearMissIssuer', () => {
  const known = [
    'https://kubernetes.default.svc',
    'https://token.actions.example.com/',
    'https://IdP.example.com',
  ];
  it.each([
    ['https://kubernetes.default.svc/', 'https://kubernetes.default.svc'],
    ['https://kubernetes.default.svc//', 'https://kubernetes.default.svc'],
    ['https://token.actions.example.com', 'https://token.actions.example.com/'],
    ['https://KUBERNETES.default.svc', 'https://kubernetes.default.svc'],
    ['https://idp.example.com', 'https://IdP.example.com'],
    ['https://kubernetes.default.svc', undefined], // exact: no near miss
    ['https://kubernetes.default.svc.cluster.local', undefined],
    ['http://kubernetes.default.svc', undefined], // another scheme is another issuer
    ['https://other.example.com', undefined],
  ])('%s → %s', (issuer, expected) => {
    expect(nearMissIssuer(issuer, known)).toBe(expected);
  });
});
