/**
 * Federated credentials through the one entry point (SPEC S9): `ClientAuthenticator` with an
 * `InMemoryClientStore`, a fixed `now`, and real issuers on loopback HTTP (their keys given
 * statically, behind `jwks_uri`, or found by OpenID discovery).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signJws, type SigningKey } from '../../../../../test/fixtures/keys/helpers.js';
import { generateTestKey, type TestKeyPair } from '../../../../../test/utils/assertions.js';
import {
  serviceAccountSubject,
  startTestIssuer,
  type ServiceAccountTokenOptions,
  type TestIssuer,
} from '../../../../../test/utils/test-issuer.js';
import { ClientAuthenticator } from '../authenticate-client.js';
import type { ClientStore } from '../clients/client-store.interface.js';
import { InMemoryClientStore } from '../clients/in-memory-client-store.js';
import {
  ClientAuthError,
  DependencyUnavailableError,
  GENERIC_CLIENT_AUTH_DESCRIPTION,
  type ClientAuthReason,
} from '../errors.js';
import { JwksCache } from '../jwks/jwks-cache.js';
import { JwksFetcher } from '../jwks/jwks-fetcher.js';
import { MemoryReplayStore } from '../replay/memory-replay-store.js';
import type { ReplayStore } from '../replay/replay-store.interface.js';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE, type ClientAuthenticationSettings } from '../options.js';
import type {
  ClientCredential,
  FederatedCredential,
  RegisteredClient,
  TokenEndpointAuthMethod,
} from '../types.js';
import { FederatedIssuerDiscovery } from './issuer-discovery.js';

/** The authorization server's issuer: the audience the workload tokens are minted for. */
const AS = 'https://as.example.com';
const SETTINGS: ClientAuthenticationSettings = { issuer: AS };
/** A fixed "now" (2030-03-17T17:46:40Z), in seconds. */
const NOW_S = 1_900_000_000;
const NOW = new Date(NOW_S * 1000);
const POLICY = { allowHosts: ['127.0.0.1'] };

const BILLING = serviceAccountSubject('payments', 'billing');
const SHIPPING = serviceAccountSubject('shipping', 'worker');

let idpA: TestIssuer; // static keys: exact and pattern credentials of `payments-api`
let idpB: TestIssuer; // jwks_uri: credential of `shipping`
let idpC: TestIssuer; // OpenID discovery: credential of `discovered`
let idpD: TestIssuer; // discovery pointing jwks_uri at a private address
let ownKey: TestKeyPair; // `payments-api`'s own private_key_jwt key
const stores: MemoryReplayStore[] = [];

beforeAll(async () => {
  [idpA, idpB, idpC, idpD] = await Promise.all([
    startTestIssuer({ alg: 'ES256' }),
    startTestIssuer({ alg: 'ES256' }),
    startTestIssuer({ alg: 'ES256', path: '/id/cluster-c' }),
    startTestIssuer({ alg: 'ES256' }),
  ]);
  idpD.discoveryOverrides = { jwks_uri: 'https://10.0.0.7/keys' };
  ownKey = await generateTestKey('ES256');
});

afterAll(async () => {
  for (const store of stores) store.close();
  await Promise.all([idpA, idpB, idpC, idpD].map((idp) => idp?.close()));
});

let counter = 0;
function federated(
  clientId: string,
  issuer: string,
  overrides: Partial<FederatedCredential> = {},
): FederatedCredential {
  return {
    id: `fc-${++counter}`,
    clientId,
    issuer,
    subject: BILLING,
    audience: AS,
    replay: 'single_use',
    status: 'active',
    ...overrides,
  };
}

function registration(
  clientId: string,
  federatedCredentials: FederatedCredential[],
  overrides: Partial<RegisteredClient> = {},
): RegisteredClient {
  return {
    clientId,
    enabled: true,
    tokenEndpointAuthMethod: 'private_key_jwt',
    credentials: [],
    federatedCredentials,
    grantTypes: ['client_credentials'],
    metadata: {},
    ...overrides,
  };
}

/** The registrations every test starts from; `edit` may replace any of them. */
function registrations(): RegisteredClient[] {
  const ownCredential: ClientCredential = {
    id: 'own-key',
    kind: 'public_key',
    kid: ownKey.kid,
    jwk: ownKey.publicJwk,
    status: 'active',
  };
  return [
    registration(
      'payments-api',
      [
        federated('payments-api', idpA.issuer, {
          id: 'fc-exact',
          jwks: { keys: [idpA.key.publicJwk] },
        }),
        federated('payments-api', idpA.issuer, {
          id: 'fc-pattern',
          jwks: { keys: [idpA.key.publicJwk] },
          subject: 'system:serviceaccount:ledger:*',
          requiredClaims: { namespace: 'ledger' },
          replay: 'reuse_within_lifetime',
          maxLifetimeSeconds: 600,
        }),
      ],
      { credentials: [ownCredential] },
    ),
    registration('shipping', [
      federated('shipping', idpB.issuer, {
        id: 'fc-remote',
        jwksUri: idpB.jwksUri,
        subject: SHIPPING,
      }),
    ]),
    registration('discovered', [federated('discovered', idpC.issuer, { id: 'fc-discovered' })]),
    registration('private-keys', [federated('private-keys', idpD.issuer, { id: 'fc-private' })]),
  ];
}

interface Harness {
  readonly authenticator: ClientAuthenticator;
  readonly store: InMemoryClientStore;
  readonly replayStore: ReplayStore;
  authenticate(
    assertion: string,
    extra?: Record<string, unknown>,
    allowedMethods?: readonly TokenEndpointAuthMethod[],
  ): ReturnType<ClientAuthenticator['authenticate']>;
}

function harness(
  options: {
    edit?: (clients: RegisteredClient[]) => RegisteredClient[];
    discovery?: boolean;
    replayStore?: ReplayStore;
    clientStore?: ClientStore;
  } = {},
): Harness {
  const store = new InMemoryClientStore((options.edit ?? ((c) => c))(registrations()));
  const replayStore =
    options.replayStore ??
    (() => {
      const memory = new MemoryReplayStore({ purgeIntervalMs: 0, clock: () => NOW.getTime() });
      stores.push(memory);
      return memory;
    })();
  const authenticator = new ClientAuthenticator({
    settings: SETTINGS,
    clientStore: options.clientStore ?? store,
    replayStore,
    keySets: new JwksCache({ cooldownSeconds: 0, fetch: POLICY }),
    ...(options.discovery !== false && {
      issuerDiscovery: new FederatedIssuerDiscovery({
        fetcher: new JwksFetcher(POLICY),
        policy: POLICY,
      }),
    }),
  });
  return {
    authenticator,
    store,
    replayStore,
    authenticate: (assertion, extra = {}, allowedMethods) =>
      authenticator.authenticate({
        body: {
          grant_type: 'client_credentials',
          client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
          client_assertion: assertion,
          ...extra,
        },
        endpointUrl: `${AS}/oauth/token`,
        requestId: 'req-1',
        now: NOW,
        ...(allowedMethods && { allowedMethods }),
      }),
  };
}

/** A service-account token of `idp` issued at {@link NOW_S}, for the AS by default. */
const mint = (idp: TestIssuer, options: Partial<ServiceAccountTokenOptions> = {}) =>
  idp.mint({ audience: [AS], issuedAt: NOW_S, ...options });

/** A ledger token matching `fc-pattern` (lifetime within its 600 s cap). */
const ledger = (options: Partial<ServiceAccountTokenOptions> = {}) =>
  mint(idpA, {
    namespace: 'ledger',
    serviceAccount: 'reconciler',
    lifetimeSeconds: 600,
    ...options,
  });

async function refusal(promise: Promise<unknown>): Promise<ClientAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientAuthError);
  return error as ClientAuthError;
}

describe('federated credentials: accepted', () => {
  it('an exact subject, with static keys: the client, credential and token are reported', async () => {
    const h = harness();
    const token = await mint(idpA);
    const result = await h.authenticate(token);
    expect(result).toMatchObject({
      clientId: 'payments-api',
      method: 'private_key_jwt',
      credentialId: 'fc-exact',
      keyId: idpA.key.kid,
      federated: { issuer: idpA.issuer, subject: BILLING, exp: NOW_S + 3600 },
    });
    expect(result.federated?.jti).toEqual(expect.any(String));
    expect(result.assertion).toBeUndefined();
    expect(h.store.successes).toEqual([
      expect.objectContaining({
        clientId: 'payments-api',
        method: 'private_key_jwt',
        credentialId: 'fc-exact',
      }),
    ]);
  });

  it('a pattern subject with its required claim', async () => {
    const result = await harness().authenticate(await ledger());
    expect(result).toMatchObject({
      clientId: 'payments-api',
      credentialId: 'fc-pattern',
      federated: { subject: serviceAccountSubject('ledger', 'reconciler') },
    });
  });

  it('the same token twice where reuse is allowed (reuse_within_lifetime)', async () => {
    const h = harness();
    const token = await ledger();
    await expect(h.authenticate(token)).resolves.toMatchObject({ credentialId: 'fc-pattern' });
    await expect(h.authenticate(token)).resolves.toMatchObject({ credentialId: 'fc-pattern' });
  });

  it('a client_id naming the client that owns the credential', async () => {
    const result = await harness().authenticate(await mint(idpA), { client_id: 'payments-api' });
    expect(result.clientId).toBe('payments-api');
  });

  it('an aud string, or an array holding the audience among others', async () => {
    const h = harness();
    await expect(h.authenticate(await mint(idpA, { claims: { aud: AS } }))).resolves.toBeDefined();
    await expect(
      h.authenticate(await mint(idpA, { audience: ['https://kubernetes.default.svc', AS] })),
    ).resolves.toBeDefined();
  });

  it('keys behind a jwks_uri, refetched once when the issuer rotates (SPEC S6)', async () => {
    const h = harness();
    await expect(h.authenticate(await mint(idpB, { sub: SHIPPING }))).resolves.toMatchObject({
      clientId: 'shipping',
      credentialId: 'fc-remote',
    });
    const before = idpB.count('/openid/v1/jwks');
    await idpB.rotateKey();
    await expect(h.authenticate(await mint(idpB, { sub: SHIPPING }))).resolves.toMatchObject({
      clientId: 'shipping',
      keyId: idpB.key.kid,
    });
    expect(idpB.count('/openid/v1/jwks')).toBe(before + 1);
  });

  it('keys found by OpenID discovery of the issuer, discovery cached', async () => {
    const h = harness();
    await expect(h.authenticate(await mint(idpC))).resolves.toMatchObject({
      clientId: 'discovered',
      credentialId: 'fc-discovered',
    });
    await expect(h.authenticate(await mint(idpC))).resolves.toBeDefined();
    expect(idpC.count('/id/cluster-c/.well-known/openid-configuration')).toBe(1);
  });

  it('a token within the clock leeway of its exp (30 s)', async () => {
    const token = await mint(idpA, { issuedAt: NOW_S - 3600, lifetimeSeconds: 3600 - 29 });
    await expect(harness().authenticate(token)).resolves.toBeDefined();
  });

  it('the client’s own private_key_jwt assertion next to its federated credentials', async () => {
    const assertion = await signJws(
      { alg: 'ES256', kid: ownKey.kid },
      { iss: 'payments-api', sub: 'payments-api', aud: AS, jti: 'own-1', exp: NOW_S + 60 },
      ownKey.privateKey as SigningKey,
    );
    await expect(harness().authenticate(assertion)).resolves.toMatchObject({
      clientId: 'payments-api',
      credentialId: 'own-key',
      assertion: { jti: 'own-1' },
    });
  });

  it('a client_id sent with a token several clients’ credentials match picks that client', async () => {
    const h = harness({
      edit: (clients) => [
        ...clients,
        registration('payments-twin', [
          federated('payments-twin', idpA.issuer, { jwks: { keys: [idpA.key.publicJwk] } }),
        ]),
      ],
    });
    const token = await mint(idpA);
    await expect(h.authenticate(token, { client_id: 'payments-twin' })).resolves.toMatchObject({
      clientId: 'payments-twin',
    });
  });
});

interface RefusalCase {
  readonly name: string;
  readonly token: () => Promise<string>;
  readonly body?: Record<string, unknown>;
  readonly reason: ClientAuthReason;
  /** The public description (default: the generic one). */
  readonly description?: string | RegExp;
  /** Part of the operator detail. */
  readonly detail?: string | RegExp;
  readonly claim?: string;
  /** The client the failure record names. */
  readonly recordedClient?: string;
  readonly setup?: Parameters<typeof harness>[0];
}

const refusals: RefusalCase[] = [
  {
    name: 'an issuer nobody trusts',
    token: async () => mint(idpA, { iss: 'https://untrusted.example.com' }),
    reason: 'federated_issuer_unknown',
    claim: 'iss',
  },
  {
    name: 'an issuer differing from a trusted one by a trailing slash',
    token: async () => mint(idpA, { iss: `${idpA.issuer}/` }),
    body: { client_id: 'payments-api' },
    reason: 'federated_issuer_near_miss',
    detail: /differs by a trailing slash/,
    claim: 'iss',
    recordedClient: 'payments-api',
  },
  {
    name: 'an issuer differing from a trusted one by case',
    token: async () => mint(idpA, { iss: idpA.issuer.toUpperCase() }),
    reason: 'federated_issuer_near_miss',
    detail: /differs by case/,
  },
  {
    name: 'a subject no credential names',
    token: async () => mint(idpA, { serviceAccount: 'intruder' }),
    body: { client_id: 'payments-api' },
    reason: 'federated_subject_mismatch',
    description: 'the token subject matches no federated credential',
    detail: 'system:serviceaccount:payments:intruder',
    claim: 'sub',
    recordedClient: 'payments-api',
  },
  {
    name: 'a subject differing from a registered one by case (named as a near miss)',
    token: async () => mint(idpA, { serviceAccount: 'Billing' }),
    reason: 'federated_subject_mismatch',
    detail: /near miss: "system:serviceaccount:payments:billing" differs only by case/,
  },
  {
    name: 'a pattern subject one segment too long',
    token: async () => mint(idpA, { sub: 'system:serviceaccount:ledger:a:b', claims: {} }),
    reason: 'federated_subject_mismatch',
  },
  {
    name: 'an audience the credential does not require',
    token: async () => mint(idpA, { audience: ['https://kubernetes.default.svc'] }),
    body: { client_id: 'payments-api' },
    reason: 'federated_audience_mismatch',
    description: 'the token audience is not the one the credential requires',
    claim: 'aud',
    recordedClient: 'payments-api',
  },
  {
    name: 'an audience with a trailing slash (named as a near miss)',
    token: async () => mint(idpA, { audience: [`${AS}/`] }),
    reason: 'federated_audience_mismatch',
    detail:
      /near miss: "https:\/\/as\.example\.com\/" differs from "https:\/\/as\.example\.com" by a trailing slash/,
  },
  {
    name: 'no audience at all',
    token: async () => mint(idpA, { omit: ['aud'] }),
    reason: 'federated_audience_mismatch',
    detail: '(none)',
  },
  {
    name: 'a required claim missing',
    token: async () => ledger({ omit: ['namespace'] }),
    body: { client_id: 'payments-api' },
    reason: 'federated_claim_mismatch',
    description: 'required claim namespace is missing or different',
    claim: 'namespace',
    recordedClient: 'payments-api',
  },
  {
    name: 'a required claim with another value',
    token: async () => ledger({ claims: { namespace: 'payments' } }),
    reason: 'federated_claim_mismatch',
    claim: 'namespace',
  },
  {
    name: 'a required claim that is not a string',
    token: async () => ledger({ claims: { namespace: ['ledger'] } }),
    reason: 'federated_claim_mismatch',
  },
  {
    name: 'an expired token',
    token: async () => mint(idpA, { issuedAt: NOW_S - 3600, lifetimeSeconds: 3600 - 31 }),
    body: { client_id: 'payments-api' },
    reason: 'assertion_expired',
    description: 'the token has expired',
    claim: 'exp',
    recordedClient: 'payments-api',
  },
  {
    name: 'a token without exp',
    token: async () => mint(idpA, { omit: ['exp'] }),
    reason: 'exp_missing',
    description: 'the token has no exp',
  },
  {
    name: 'a token not valid yet (nbf)',
    token: async () => mint(idpA, { claims: { nbf: NOW_S + 120 } }),
    reason: 'nbf_in_future',
  },
  {
    name: 'a token issued in the future (iat)',
    token: async () => mint(idpA, { issuedAt: NOW_S + 120, omit: ['nbf'] }),
    reason: 'iat_in_future',
  },
  {
    name: 'a lifetime over the default cap (3600 s)',
    token: async () => mint(idpA, { lifetimeSeconds: 7200 }),
    body: { client_id: 'payments-api' },
    reason: 'lifetime_too_long',
    description: 'the token lives longer than the 3600 s cap',
    recordedClient: 'payments-api',
  },
  {
    name: 'a lifetime over the credential’s own cap (600 s)',
    token: async () => ledger({ lifetimeSeconds: 3600 }),
    reason: 'lifetime_too_long',
    description: 'the token lives longer than the 600 s cap',
    recordedClient: 'payments-api',
  },
  {
    name: 'an exp − iat over the cap even when exp is near',
    token: async () => mint(idpA, { issuedAt: NOW_S - 7000, lifetimeSeconds: 7200 }),
    reason: 'lifetime_too_long',
  },
  {
    name: 'a single-use credential and a token without jti',
    token: async () => mint(idpA, { omit: ['jti'] }),
    reason: 'jti_missing',
  },
  {
    name: 'a token from issuer A signed with A’s key but claiming B’s iss (B’s kid copied)',
    token: async () => mint(idpA, { iss: idpB.issuer, sub: SHIPPING, kid: idpB.key.kid }),
    reason: 'signature_invalid',
  },
  {
    name: 'a token from issuer A signed with A’s key but claiming B’s iss (A’s kid)',
    token: async () => mint(idpA, { iss: idpB.issuer, sub: SHIPPING }),
    reason: 'kid_unknown',
  },
  {
    name: 'a token of issuer A with the subject of B’s credential',
    token: async () => mint(idpA, { sub: SHIPPING }),
    reason: 'federated_subject_mismatch',
  },
  {
    name: 'a token of issuer A with the subject of B’s credential, naming B’s client',
    token: async () => mint(idpA, { sub: SHIPPING }),
    body: { client_id: 'shipping' },
    reason: 'federated_client_mismatch',
    recordedClient: 'shipping',
  },
  {
    name: 'a client_id naming another client than the credential’s',
    token: async () => mint(idpA),
    body: { client_id: 'discovered' },
    reason: 'federated_client_mismatch',
    detail: 'client_id discovered has no federated credential for issuer',
    recordedClient: 'discovered',
  },
  {
    name: 'an issuer whose discovery points jwks_uri at a private address',
    token: async () => mint(idpD),
    body: { client_id: 'private-keys' },
    reason: 'federated_keys_unavailable',
    detail: /10\.0\.0\.7/,
    recordedClient: 'private-keys',
  },
  {
    name: 'an issuer without a key source when discovery is off',
    token: async () => mint(idpC),
    reason: 'federated_keys_unavailable',
    detail: 'discovery is off',
    setup: { discovery: false },
  },
  {
    name: 'a credential whose issuer serves no keys (jwks_uri 404)',
    token: async () => mint(idpB, { sub: SHIPPING }),
    reason: 'federated_keys_unavailable',
    setup: {
      edit: (clients) =>
        clients.map((c) =>
          c.clientId === 'shipping'
            ? registration('shipping', [
                federated('shipping', idpB.issuer, {
                  subject: SHIPPING,
                  jwksUri: `${idpB.issuer}/missing`,
                }),
              ])
            : c,
        ),
    },
  },
  {
    name: 'a token matching credentials of two clients, without client_id',
    token: async () => mint(idpA),
    reason: 'federated_ambiguous',
    description: 'the token matches several clients; send client_id',
    setup: {
      edit: (clients) => [
        ...clients,
        registration('payments-twin', [
          federated('payments-twin', idpA.issuer, { jwks: { keys: [idpA.key.publicJwk] } }),
        ]),
      ],
    },
  },
  {
    name: 'a revoked credential (the only one of its issuer)',
    token: async () => mint(idpC),
    reason: 'federated_issuer_unknown',
    detail: 'revoked, expired or not yet valid',
    setup: {
      edit: (clients) =>
        clients.map((c) =>
          c.clientId === 'discovered'
            ? registration('discovered', [
                federated('discovered', idpC.issuer, { status: 'revoked' }),
              ])
            : c,
        ),
    },
  },
  {
    name: 'a revoked credential of the named client while another client trusts the issuer',
    token: async () => mint(idpC),
    body: { client_id: 'discovered' },
    reason: 'federated_issuer_unknown',
    detail: 'every federated credential of discovered for',
    recordedClient: 'discovered',
    setup: {
      edit: (clients) => [
        ...clients.map((c) =>
          c.clientId === 'discovered'
            ? registration('discovered', [
                federated('discovered', idpC.issuer, { status: 'revoked' }),
              ])
            : c,
        ),
        registration('other', [federated('other', idpC.issuer, { subject: SHIPPING })]),
      ],
    },
  },
  {
    name: 'an expired credential',
    token: async () => mint(idpC),
    reason: 'federated_issuer_unknown',
    setup: {
      edit: (clients) =>
        clients.map((c) =>
          c.clientId === 'discovered'
            ? registration('discovered', [
                federated('discovered', idpC.issuer, { expiresAt: new Date(NOW.getTime() - 1) }),
              ])
            : c,
        ),
    },
  },
  {
    name: 'a credential not valid yet',
    token: async () => mint(idpC),
    reason: 'federated_issuer_unknown',
    setup: {
      edit: (clients) =>
        clients.map((c) =>
          c.clientId === 'discovered'
            ? registration('discovered', [
                federated('discovered', idpC.issuer, { notBefore: new Date(NOW.getTime() + 1) }),
              ])
            : c,
        ),
    },
  },
  {
    name: 'a disabled client',
    token: async () => mint(idpC),
    reason: 'client_disabled',
    recordedClient: 'discovered',
    setup: {
      edit: (clients) =>
        clients.map((c) => (c.clientId === 'discovered' ? { ...c, enabled: false } : c)),
    },
  },
  {
    name: 'a client registered for another method',
    token: async () => mint(idpC),
    reason: 'method_not_registered',
    recordedClient: 'discovered',
    setup: {
      edit: (clients) =>
        clients.map((c) =>
          c.clientId === 'discovered'
            ? { ...c, tokenEndpointAuthMethod: 'client_secret_basic' as const }
            : c,
        ),
    },
  },
];

describe('federated credentials: refused', () => {
  it.each(refusals)('$name → $reason', async (row) => {
    const h = harness(row.setup);
    const error = await refusal(h.authenticate(await row.token(), row.body ?? {}));
    expect(error.reason).toBe(row.reason);
    expect(error.error).toBe('invalid_client');
    expect(error.status).toBe(401);
    if (row.description instanceof RegExp) expect(error.description).toMatch(row.description);
    else if (row.description !== undefined) expect(error.description).toBe(row.description);
    if (row.detail instanceof RegExp) expect(error.detail).toMatch(row.detail);
    else if (row.detail !== undefined) expect(error.detail).toContain(row.detail);
    if (row.claim !== undefined) expect(error.claim).toBe(row.claim);
    // The failure record carries the reason, the request id, and the client when one is known.
    expect(h.store.failures).toEqual([
      expect.objectContaining({ reason: row.reason, requestId: 'req-1' }),
    ]);
    if (row.recordedClient !== undefined) {
      expect(h.store.failures[0]!.clientId).toBe(row.recordedClient);
    }
    // Nothing is echoed: neither the token nor its signature.
    const token = await row.token();
    expect(error.description).not.toContain(token.split('.')[2]!);
    expect(error.detail).not.toContain(token.split('.')[2]!);
  });

  it.each([
    [
      'before the signature',
      'federated_issuer_unknown',
      () => mint(idpA, { iss: 'https://x.example' }),
    ],
    [
      'for a forged signature',
      'signature_invalid',
      () => mint(idpA, { iss: idpB.issuer, sub: SHIPPING, kid: idpB.key.kid }),
    ],
    [
      'for a key the issuer lacks',
      'kid_unknown',
      () => mint(idpA, { iss: idpB.issuer, sub: SHIPPING }),
    ],
    ['for unavailable keys', 'federated_keys_unavailable', () => mint(idpD)],
    ['for the wrong client', 'federated_client_mismatch', () => mint(idpA)],
  ])('keeps the description generic %s', async (_when, reason, token) => {
    const error = await refusal(
      harness().authenticate(
        await token(),
        reason === 'federated_client_mismatch' ? { client_id: 'shipping' } : {},
      ),
    );
    expect(error.reason).toBe(reason);
    expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
  });

  it('a replayed token where the credential is single-use', async () => {
    const h = harness();
    const token = await mint(idpA);
    await expect(h.authenticate(token)).resolves.toMatchObject({ credentialId: 'fc-exact' });
    const error = await refusal(h.authenticate(token, { client_id: 'payments-api' }));
    expect(error).toMatchObject({
      reason: 'jti_replayed',
      claim: 'jti',
      description: 'the token jti was already used and the credential is single-use',
    });
    expect(h.store.failures.at(-1)).toMatchObject({
      reason: 'jti_replayed',
      clientId: 'payments-api',
    });
  });

  describe('credentials of one issuer with different key sources', () => {
    let attacker: TestKeyPair;
    beforeAll(async () => {
      attacker = await generateTestKey('ES256');
    });
    /** `mallory` trusts idpC's issuer name with a key of its own, listed before `discovered`. */
    const withMallory = (clients: RegisteredClient[]) => [
      registration('mallory', [
        federated('mallory', idpC.issuer, {
          subject: serviceAccountSubject('mallory', 'app'),
          jwks: { keys: [attacker.publicJwk] },
        }),
      ]),
      ...clients,
    ];

    it('a key registered for one client cannot vouch for another client’s credential', async () => {
      const h = harness({ edit: withMallory });
      // Signed with mallory's key, claiming idpC's issuer and the subject `discovered` trusts.
      const forged = await mint(idpC, { key: attacker });
      const error = await refusal(h.authenticate(forged));
      expect(error.reason).toBe('federated_subject_mismatch');
      expect(h.store.successes).toHaveLength(0);
    });

    it('each credential’s own key source verifies its tokens', async () => {
      const h = harness({ edit: withMallory });
      await expect(h.authenticate(await mint(idpC))).resolves.toMatchObject({
        clientId: 'discovered',
      });
      const own = await mint(idpC, { key: attacker, serviceAccount: 'app', namespace: 'mallory' });
      await expect(h.authenticate(own)).resolves.toMatchObject({ clientId: 'mallory' });
    });
  });

  it('a refused token never consumes its jti', async () => {
    const h = harness();
    const token = await mint(idpA);
    await refusal(h.authenticate(token, { client_id: 'shipping' }));
    await expect(h.authenticate(token)).resolves.toMatchObject({ credentialId: 'fc-exact' });
  });

  it('single-use tokens of one issuer share one jti space across its credentials', async () => {
    // Two clients trust the same issuer: one token, whichever client it names, is used once.
    const h = harness({
      edit: (clients) => [
        ...clients,
        registration('payments-twin', [
          federated('payments-twin', idpA.issuer, { jwks: { keys: [idpA.key.publicJwk] } }),
        ]),
      ],
    });
    const token = await mint(idpA);
    await expect(h.authenticate(token, { client_id: 'payments-api' })).resolves.toBeDefined();
    const error = await refusal(h.authenticate(token, { client_id: 'payments-twin' }));
    expect(error.reason).toBe('jti_replayed');
  });

  it('an endpoint that does not accept private_key_jwt refuses federated tokens', async () => {
    const error = await refusal(
      harness().authenticate(await mint(idpA), {}, ['client_secret_basic']),
    );
    expect(error.reason).toBe('method_not_allowed_here');
  });

  describe('the header rules of SPEC S2.4', () => {
    const claims = () => ({
      iss: idpA.issuer,
      sub: BILLING,
      aud: [AS],
      exp: NOW_S + 600,
      iat: NOW_S,
      jti: 'header-test',
    });
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    /** Signed with idpA's key (a trusted key), with extra header members. */
    const withHeader = (header: Record<string, unknown>) =>
      signJws(
        { alg: 'ES256', kid: idpA.key.kid, ...header },
        claims(),
        idpA.key.privateKey as SigningKey,
      );

    it.each<[string, () => Promise<string>, ClientAuthReason]>([
      [
        'an HMAC algorithm',
        () => signJws({ alg: 'HS256', kid: idpA.key.kid }, claims(), new Uint8Array(32).fill(7)),
        'alg_not_allowed',
      ],
      ['alg none', async () => `${b64({ alg: 'none' })}.${b64(claims())}.`, 'alg_not_allowed'],
      ['an embedded jwk', () => withHeader({ jwk: { kty: 'EC' } }), 'header_key_forbidden'],
      ['a jku', () => withHeader({ jku: 'https://evil.example/jwks' }), 'header_key_forbidden'],
      ['an x5c chain', () => withHeader({ x5c: ['MIIB'] }), 'header_key_forbidden'],
      ['a crit parameter', () => withHeader({ crit: ['exp'] }), 'crit_unsupported'],
    ])('refuses %s', async (_what, build, reason) => {
      const error = await refusal(harness().authenticate(await build()));
      expect(error.reason).toBe(reason);
    });
  });

  it('a token whose payload has been altered fails its signature', async () => {
    const token = await mint(idpA);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const altered = Buffer.from(JSON.stringify({ ...claims, namespace: 'ledger' })).toString(
      'base64url',
    );
    const error = await refusal(harness().authenticate(`${header}.${altered}.${signature}`));
    expect(error.reason).toBe('signature_invalid');
  });
});

describe('federated credentials: dependencies', () => {
  it('a client store that is down answers 503, not an authentication failure', async () => {
    const down: ClientStore = {
      findClient: () => Promise.reject(new Error('db down')),
      findFederatedCredentials: () => Promise.reject(new Error('db down')),
      federatedIssuers: () => Promise.resolve([]),
    };
    const error = await harness({ clientStore: down })
      .authenticate(await mint(idpA))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).status).toBe(503);
  });

  it('a replay store that is down answers 503 for a single-use credential only', async () => {
    const down: ReplayStore = {
      consume: () => Promise.reject(new Error('redis down')),
    } as unknown as ReplayStore;
    const h = harness({ replayStore: down });
    await expect(h.authenticate(await mint(idpA))).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    // reuse_within_lifetime never touches the replay store
    await expect(h.authenticate(await ledger())).resolves.toMatchObject({
      credentialId: 'fc-pattern',
    });
  });

  it('a store without federation support treats the token as an ordinary assertion', async () => {
    const plain = new InMemoryClientStore(registrations());
    const withoutFederation: ClientStore = {
      findClient: (id) => plain.findClient(id),
    };
    const error = await refusal(
      harness({ clientStore: withoutFederation }).authenticate(await mint(idpA)),
    );
    // `sub` names no client: the ordinary private_key_jwt path refuses it.
    expect(error.reason).toBe('client_unknown');
  });
});
