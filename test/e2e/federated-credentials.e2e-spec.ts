/**
 * Federated credentials end to end (SPEC S9): credentials registered through the admin API of
 * the reference server, Kubernetes-style service-account tokens minted by local issuers on
 * loopback (their own discovery documents and JWKS) presented as `client_assertion`, every
 * refusal read back with its reason code from the client's failure record — on SQLite and
 * PostgreSQL. Then the outgoing side: a token client in another Nest app authenticates with a
 * projected token file (rotated under it) and with a federated token callback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, type INestApplication, Param, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import request from 'supertest';
import {
  ClientAuthClientsModule,
  FederatedTokenAssertionProvider,
  InjectTokenClient,
  ProjectedTokenFileAssertionProvider,
  TokenClient,
  TokenEndpointError,
  TypeOrmClientStore,
  type FetchFunction,
} from 'nestjs-client-auth';
import { assertionForm } from '../utils/assertions.js';
import {
  serviceAccountSubject,
  startTestIssuer,
  type ServiceAccountTokenOptions,
  type TestIssuer,
} from '../utils/test-issuer.js';
import {
  startTestServer,
  TEST_DATABASES,
  TEST_ISSUER,
  type TestServer,
} from '../utils/test-server.js';

const ADMIN_TOKEN = 'federation-admin-token';
const BILLING = serviceAccountSubject('payments', 'billing');
const SHIPPING = serviceAccountSubject('shipping', 'worker');

/** A failure as `GET /admin/clients/:id/failures` shows it. */
interface FailureRecord {
  readonly client_id: string | null;
  readonly reason: string;
  readonly method: string | null;
  readonly request_id: string | null;
  readonly detail: string;
}

describe.each(TEST_DATABASES)('federated credentials on %s', (kind) => {
  let server: TestServer;
  /** Trusted by `payments-api` (OpenID discovery): exact and pattern credentials. */
  let idpA: TestIssuer;
  /** Trusted by `shipping` (jwks_uri given at registration). */
  let idpB: TestIssuer;
  /** Its discovery document points jwks_uri at a private address. */
  let idpPrivate: TestIssuer;
  const credentialIds: Record<string, string> = {};

  const admin = (method: 'get' | 'post', path: string) =>
    request(server.url)[method](path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);

  const token = (form: Record<string, string>) =>
    request(server.url).post('/oauth/token').type('form').send(form);

  const present = async (assertion: string, clientId?: string) =>
    token(assertionForm(assertion, clientId ? { client_id: clientId } : {}));

  const mint = (idp: TestIssuer, options: Partial<ServiceAccountTokenOptions> = {}) =>
    idp.mint({ audience: [TEST_ISSUER], ...options });

  /** The failure record of a refused request, joined by its request id (SPEC S2.9). */
  const failureOf = async (
    response: request.Response,
    clientId?: string,
  ): Promise<FailureRecord | undefined> => {
    await server.app.get(TypeOrmClientStore).flush();
    const list = await admin(
      'get',
      clientId ? `/admin/clients/${clientId}/failures` : '/admin/failures',
    );
    expect(list.status).toBe(200);
    const requestId = response.headers['x-request-id'];
    expect(requestId).toEqual(expect.any(String));
    return (list.body as FailureRecord[]).find((failure) => failure.request_id === requestId);
  };

  const addCredential = async (clientId: string, body: Record<string, unknown>) => {
    const res = await admin('post', `/admin/clients/${clientId}/federated-credentials`).send(body);
    expect(res.status).toBe(201);
    return res.body as { id: string; status: string };
  };

  const createClient = async (clientId: string) => {
    const res = await admin('post', '/admin/clients').send({
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      federated_only: true,
      grant_types: ['client_credentials'],
      scope: 'invoices:read',
    });
    expect(res.status).toBe(201);
  };

  beforeAll(async () => {
    [idpA, idpB, idpPrivate] = await Promise.all([
      startTestIssuer({ alg: 'RS256' }),
      startTestIssuer({ alg: 'RS256', path: '/id/cluster-b' }),
      startTestIssuer({ alg: 'ES256' }),
    ]);
    idpPrivate.discoveryOverrides = { jwks_uri: 'https://10.0.0.7/keys' };
    server = await startTestServer(kind, {
      ADMIN_TOKEN,
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
    });
    await createClient('payments-api');
    credentialIds.exact = (
      await addCredential('payments-api', {
        name: 'billing pods',
        issuer: idpA.issuer,
        subject: BILLING,
        audience: TEST_ISSUER,
      })
    ).id;
    credentialIds.pattern = (
      await addCredential('payments-api', {
        name: 'ledger namespace',
        issuer: idpA.issuer,
        subject: 'system:serviceaccount:ledger:*',
        audience: TEST_ISSUER,
        required_claims: { namespace: 'ledger' },
        replay: 'reuse_within_lifetime',
        max_lifetime: 900,
      })
    ).id;
    await createClient('shipping');
    await addCredential('shipping', {
      issuer: idpB.issuer,
      jwks_uri: idpB.jwksUri,
      subject: SHIPPING,
      audience: TEST_ISSUER,
    });
    await createClient('private-keys');
    await addCredential('private-keys', {
      issuer: idpPrivate.issuer,
      subject: BILLING,
      audience: TEST_ISSUER,
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await Promise.all([idpA, idpB, idpPrivate].map((idp) => idp?.close()));
  });

  describe('accepted', () => {
    let jwks: ReturnType<typeof createLocalJWKSet>;
    beforeAll(async () => {
      jwks = createLocalJWKSet(
        (await request(server.url).get('/oauth/jwks')).body as JSONWebKeySet,
      );
    });

    const expectAccessTokenFor = async (res: request.Response, clientId: string) => {
      expect(res.status).toBe(200);
      expect(res.body.token_type).toBe('Bearer');
      const { payload } = await jwtVerify(res.body.access_token as string, jwks, {
        issuer: TEST_ISSUER,
        typ: 'at+jwt',
      });
      expect(payload).toMatchObject({ sub: clientId, client_id: clientId });
    };

    it('an exact subject (keys found by OpenID discovery of the issuer)', async () => {
      await expectAccessTokenFor(await present(await mint(idpA)), 'payments-api');
      expect(idpA.count('/.well-known/openid-configuration')).toBeGreaterThanOrEqual(1);
    });

    it('a pattern subject with its required claim', async () => {
      const assertion = await mint(idpA, {
        namespace: 'ledger',
        serviceAccount: 'reconciler',
        lifetimeSeconds: 900,
      });
      await expectAccessTokenFor(await present(assertion, 'payments-api'), 'payments-api');
    });

    it('the same token twice where reuse is allowed', async () => {
      const assertion = await mint(idpA, { namespace: 'ledger', lifetimeSeconds: 600 });
      await expectAccessTokenFor(await present(assertion), 'payments-api');
      await expectAccessTokenFor(await present(assertion), 'payments-api');
    });

    it('keys from the jwks_uri given at registration, for an issuer with a path', async () => {
      await expectAccessTokenFor(await present(await mint(idpB, { sub: SHIPPING })), 'shipping');
    });

    it('records the authentication on the client (last_authenticated_at), not as a failure', async () => {
      await createClient('audited');
      await addCredential('audited', {
        issuer: idpA.issuer,
        subject: serviceAccountSubject('audit', 'reader'),
        audience: TEST_ISSUER,
      });
      const before = await admin('get', '/admin/clients/audited');
      expect(before.body.last_authenticated_at).toBeNull();
      const res = await present(
        await mint(idpA, { namespace: 'audit', serviceAccount: 'reader' }),
        'audited',
      );
      expect(res.status).toBe(200);
      await server.app.get(TypeOrmClientStore).flush();
      const after = await admin('get', '/admin/clients/audited');
      expect(after.body.last_authenticated_at).toEqual(expect.any(String));
      // A federated token says nothing about audience readiness (SPEC S2.8).
      expect(after.body.last_audience_form).toBeNull();
      expect(await failureOf(res, 'audited')).toBeUndefined();
      // The credential that matched records its last use (SPEC S3 inventory).
      const credentials = await admin('get', '/admin/clients/audited/federated-credentials');
      expect(credentials.body[0].last_used_at).toEqual(expect.any(String));
    });
  });

  interface Refusal {
    readonly name: string;
    readonly assertion: () => Promise<string>;
    readonly clientId?: string;
    readonly reason: string;
    /** Where the failure is recorded (default: the request's client_id). */
    readonly recordedFor?: string;
    readonly detail?: RegExp;
  }

  const refusals: Refusal[] = [
    {
      name: 'an unknown issuer',
      assertion: () => mint(idpA, { iss: 'https://untrusted.example.com' }),
      clientId: 'payments-api',
      reason: 'federated_issuer_unknown',
    },
    {
      name: 'an issuer with a trailing-slash difference',
      assertion: async () => mint(idpA, { iss: `${idpA.issuer}/` }),
      clientId: 'payments-api',
      reason: 'federated_issuer_near_miss',
      detail: /trailing slash/,
    },
    {
      name: 'a wrong subject',
      assertion: () => mint(idpA, { serviceAccount: 'intruder' }),
      clientId: 'payments-api',
      reason: 'federated_subject_mismatch',
      detail: /system:serviceaccount:payments:intruder/,
    },
    {
      name: 'a wrong audience',
      assertion: () => mint(idpA, { audience: ['https://kubernetes.default.svc'] }),
      clientId: 'payments-api',
      reason: 'federated_audience_mismatch',
    },
    {
      name: 'a missing required claim',
      assertion: () =>
        mint(idpA, { namespace: 'ledger', omit: ['namespace'], lifetimeSeconds: 600 }),
      clientId: 'payments-api',
      reason: 'federated_claim_mismatch',
      detail: /namespace/,
    },
    {
      name: 'an expired token',
      assertion: () =>
        mint(idpA, { issuedAt: Math.floor(Date.now() / 1000) - 4000, lifetimeSeconds: 3600 }),
      clientId: 'payments-api',
      reason: 'assertion_expired',
    },
    {
      name: 'a lifetime over the cap',
      assertion: () => mint(idpA, { lifetimeSeconds: 7200 }),
      clientId: 'payments-api',
      reason: 'lifetime_too_long',
    },
    {
      name: 'a token from issuer A signed by A’s key but claiming B’s iss',
      assertion: () => mint(idpA, { iss: idpB.issuer, sub: SHIPPING, kid: idpB.key.kid }),
      clientId: 'shipping',
      reason: 'signature_invalid',
    },
    {
      name: 'a token from issuer A with the subject of B’s credential',
      assertion: () => mint(idpA, { sub: SHIPPING }),
      clientId: 'shipping',
      reason: 'federated_client_mismatch',
    },
    {
      name: 'an issuer whose discovery points jwks_uri at a private address',
      assertion: () => mint(idpPrivate),
      clientId: 'private-keys',
      reason: 'federated_keys_unavailable',
      detail: /10\.0\.0\.7/,
    },
    {
      name: 'a client_id naming another client than the credential’s',
      assertion: () => mint(idpA),
      clientId: 'shipping',
      reason: 'federated_client_mismatch',
    },
  ];

  describe('refused', () => {
    it.each(refusals)('$name → 401, $reason', async (row) => {
      const res = await present(await row.assertion(), row.clientId);
      expect(res.status).toBe(401);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.error).toBe('invalid_client');
      const failure = await failureOf(res, row.recordedFor ?? row.clientId);
      expect(failure).toMatchObject({ reason: row.reason });
      if (row.detail) expect(failure!.detail).toMatch(row.detail);
    });

    it('a replay where single-use is configured → 401, jti_replayed', async () => {
      const assertion = await mint(idpA);
      expect((await present(assertion, 'payments-api')).status).toBe(200);
      const res = await present(assertion, 'payments-api');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: 'invalid_client',
        error_description: 'the token jti was already used and the credential is single-use',
      });
      expect(await failureOf(res, 'payments-api')).toMatchObject({
        reason: 'jti_replayed',
        method: 'private_key_jwt',
      });
    });

    it('a token from issuer A with the subject of B’s credential, without client_id', async () => {
      const res = await present(await mint(idpA, { sub: SHIPPING }));
      expect(res.status).toBe(401);
      expect(res.body.error_description).toBe('the token subject matches no federated credential');
      expect(await failureOf(res)).toMatchObject({ reason: 'federated_subject_mismatch' });
    });

    it('the description stays generic before the signature is verified', async () => {
      const res = await present(await mint(idpA, { iss: `${idpA.issuer}/` }), 'payments-api');
      expect(res.body).toEqual({
        error: 'invalid_client',
        error_description: 'client authentication failed',
      });
    });
  });

  describe('credential lifecycle through the admin API', () => {
    it('lists credentials, audits changes, and a revoked credential stops working on the next request', async () => {
      await createClient('batch-jobs');
      const added = await addCredential('batch-jobs', {
        issuer: idpB.issuer,
        jwks_uri: idpB.jwksUri,
        subject: serviceAccountSubject('batch', '*'),
        audience: TEST_ISSUER,
        replay: 'reuse_within_lifetime',
      });
      const listed = await admin('get', '/admin/clients/batch-jobs/federated-credentials');
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([
        expect.objectContaining({
          id: added.id,
          kind: 'federated',
          issuer: idpB.issuer,
          subject: 'system:serviceaccount:batch:*',
          audience: TEST_ISSUER,
          jwks_uri: idpB.jwksUri,
          replay: 'reuse_within_lifetime',
          max_lifetime: null,
          status: 'active',
        }),
      ]);
      const assertion = await mint(idpB, { namespace: 'batch', serviceAccount: 'nightly' });
      expect((await present(assertion, 'batch-jobs')).status).toBe(200);

      const revoked = await admin(
        'post',
        `/admin/clients/batch-jobs/federated-credentials/${added.id}/revoke`,
      );
      expect(revoked.status).toBe(204);
      // The same (reusable, still valid) token, on the very next request.
      const res = await present(assertion, 'batch-jobs');
      expect(res.status).toBe(401);
      expect(await failureOf(res, 'batch-jobs')).toMatchObject({
        reason: 'federated_issuer_unknown',
      });
      const after = await admin('get', '/admin/clients/batch-jobs/federated-credentials');
      expect(after.body).toEqual([expect.objectContaining({ id: added.id, status: 'revoked' })]);

      const audit = await admin('get', '/admin/audit-events?client_id=batch-jobs');
      const actions = (audit.body as { action: string; details: Record<string, unknown> }[]).map(
        (event) => event.action,
      );
      expect(actions).toEqual(
        expect.arrayContaining(['federated_credential.added', 'federated_credential.revoked']),
      );
    });

    it('revoking an unknown credential → 404', async () => {
      const res = await admin(
        'post',
        '/admin/clients/payments-api/federated-credentials/00000000-0000-4000-8000-000000000000/revoke',
      );
      expect(res.status).toBe(404);
    });

    // Shapes are checked by the DTO (`invalid_request`, as everywhere in the admin API), domain
    // rules by the registry (`invalid_client_metadata`); both name the field first.
    it.each([
      ['a subject pattern with a partial segment', { subject: 'app-*' }, 'subject'],
      ['a subject pattern that is only wildcards', { subject: '*:*' }, 'subject'],
      ['a subject pattern whose only literal segment is empty', { subject: '*:' }, 'subject'],
      [
        'a claim name with a space',
        { required_claims: { 'kubernetes namespace': 'ledger' } },
        'required_claims',
      ],
      [
        'a registered claim as required claim',
        { required_claims: { sub: BILLING } },
        'required_claims',
      ],
      [
        'a claim value that is not a string',
        { required_claims: { namespace: 7 } },
        'required_claims',
      ],
      [
        'both jwks and jwks_uri',
        { jwks: { keys: ['KEY'] }, jwks_uri: 'https://keys.example.com/jwks' },
        'jwks(_uri)?',
      ],
      ['an issuer with a query', { issuer: 'https://issuer.example.com/?tenant=1' }, 'issuer'],
      ['an issuer that is not a URL', { issuer: 'kubernetes' }, 'issuer'],
      ['a replay policy that does not exist', { replay: 'sometimes' }, 'replay'],
      ['a lifetime cap over a day', { max_lifetime: 86_401 }, 'max_lifetime'],
      ['no audience', { audience: undefined }, 'audience'],
    ])('refuses %s → 400 naming the field, nothing stored', async (_what, change, field) => {
      const before = await admin('get', '/admin/clients/payments-api/federated-credentials');
      const body: Record<string, unknown> = {
        issuer: 'https://issuer.example.com',
        subject: BILLING,
        audience: TEST_ISSUER,
        ...change,
      };
      for (const [key, value] of Object.entries(body)) if (value === undefined) delete body[key];
      if (body.jwks) body.jwks = { keys: [idpA.key.publicJwk] };
      const res = await admin('post', '/admin/clients/payments-api/federated-credentials').send(
        body,
      );
      expect(res.status).toBe(400);
      expect(['invalid_request', 'invalid_client_metadata']).toContain(res.body.error);
      expect(res.body.error_description).toMatch(new RegExp(`^${field}[:.]`));
      const after = await admin('get', '/admin/clients/payments-api/federated-credentials');
      expect(after.body).toEqual(before.body);
    });

    it('refuses federated credentials on a client of another method → 400, nothing stored', async () => {
      const created = await admin('post', '/admin/clients').send({
        client_id: 'secret-client',
        token_endpoint_auth_method: 'client_secret_basic',
      });
      expect(created.status).toBe(201);
      const res = await admin('post', '/admin/clients/secret-client/federated-credentials').send({
        issuer: idpA.issuer,
        subject: BILLING,
        audience: TEST_ISSUER,
      });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(/^token_endpoint_auth_method: /);
      const listed = await admin('get', '/admin/clients/secret-client/federated-credentials');
      expect(listed.body).toEqual([]);
    });

    it('refuses federated_only on a client of another method → 400', async () => {
      const res = await admin('post', '/admin/clients').send({
        client_id: 'confused',
        token_endpoint_auth_method: 'client_secret_basic',
        federated_only: true,
      });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(/^federated_only: /);
      expect((await admin('get', '/admin/clients/confused')).status).toBe(404);
    });

    it('a credential for an unknown client → 404', async () => {
      const res = await admin('post', '/admin/clients/nobody/federated-credentials').send({
        issuer: idpA.issuer,
        subject: BILLING,
        audience: TEST_ISSUER,
      });
      expect(res.status).toBe(404);
    });

    it('the admin API is closed without the admin token', async () => {
      const res = await request(server.url)
        .post('/admin/clients/payments-api/federated-credentials')
        .send({ issuer: idpA.issuer, subject: BILLING, audience: TEST_ISSUER });
      expect(res.status).toBe(401);
    });
  });
});

describe('federated credentials with the outgoing side (another Nest app)', () => {
  let server: TestServer;
  let idp: TestIssuer;
  let workload: INestApplication;
  let dir: string;
  let tokenFile: string;
  /** Every client_assertion the token clients sent to the reference server. */
  const sent: string[] = [];
  const callbackContexts: unknown[] = [];

  /**
   * The reference server's issuer is https://as.example.test while it listens on loopback:
   * requests to the issuer's origin go to the server, as DNS would send them in production.
   */
  const viaLoopback: FetchFunction = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (init?.method === 'POST' && typeof init.body === 'string') {
      const assertion = new URLSearchParams(init.body).get('client_assertion');
      if (assertion) sent.push(assertion);
    }
    return fetch(url.replace(TEST_ISSUER, server.url), init);
  };

  /** Writes a token atomically, as the kubelet does (new file, then rename over the old one). */
  const writeToken = (value: string) => {
    const next = `${tokenFile}.next`;
    writeFileSync(next, value);
    renameSync(next, tokenFile);
  };

  @Controller('tokens')
  class WorkloadController {
    constructor(
      @InjectTokenClient('projected') private readonly projected: TokenClient,
      @InjectTokenClient('callback') private readonly callback: TokenClient,
    ) {}

    /** Obtains an access token with the named client; `fresh=1` skips the cache. */
    @Get(':name')
    async token(@Param('name') name: string, @Query('fresh') fresh?: string) {
      const client = name === 'projected' ? this.projected : this.callback;
      try {
        const obtained = await client.getToken(fresh === '1' ? { forceRefresh: true } : {});
        return { access_token: obtained.accessToken, scope: obtained.scope ?? null };
      } catch (error) {
        if (error instanceof TokenEndpointError) {
          return { error: error.error, status: error.status };
        }
        throw error;
      }
    }
  }

  beforeAll(async () => {
    idp = await startTestIssuer({ alg: 'RS256' });
    server = await startTestServer('sqlite', {
      ADMIN_TOKEN,
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
    });
    const admin = (path: string) =>
      request(server.url).post(path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    for (const [clientId, subject] of [
      ['projected-workload', serviceAccountSubject('payments', 'billing')],
      ['callback-workload', serviceAccountSubject('ci', 'deployer')],
    ] as const) {
      expect(
        (
          await admin('/admin/clients').send({
            client_id: clientId,
            token_endpoint_auth_method: 'private_key_jwt',
            federated_only: true,
            scope: 'invoices:read',
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await admin(`/admin/clients/${clientId}/federated-credentials`).send({
            issuer: idp.issuer,
            subject,
            audience: TEST_ISSUER,
            required_claims: { namespace: subject.split(':')[2] },
          })
        ).status,
      ).toBe(201);
    }

    dir = mkdtempSync(join(tmpdir(), 'federated-e2e-'));
    tokenFile = join(dir, 'oauth-token');
    writeToken(await idp.mint({ audience: [TEST_ISSUER] }));

    const moduleRef = await Test.createTestingModule({
      imports: [
        ClientAuthClientsModule.forRoot({
          clients: {
            projected: {
              clientId: 'projected-workload',
              issuer: TEST_ISSUER,
              assertionProvider: new ProjectedTokenFileAssertionProvider({ path: tokenFile }),
              scope: 'invoices:read',
              fetch: viaLoopback,
            },
            callback: {
              clientId: 'callback-workload',
              issuer: TEST_ISSUER,
              assertionProvider: new FederatedTokenAssertionProvider({
                getToken: (context) => {
                  callbackContexts.push(context);
                  return idp.mint({
                    audience: [context.issuer],
                    namespace: 'ci',
                    serviceAccount: 'deployer',
                    lifetimeSeconds: 600,
                  });
                },
              }),
              fetch: viaLoopback,
            },
          },
        }),
      ],
      controllers: [WorkloadController],
    }).compile();
    workload = moduleRef.createNestApplication({ logger: false });
    await workload.listen(0, '127.0.0.1');
  }, 60_000);

  afterAll(async () => {
    await workload?.close();
    await server?.close();
    await idp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fetchToken = (name: string, fresh = false) =>
    request(workload.getHttpServer()).get(`/tokens/${name}${fresh ? '?fresh=1' : ''}`);

  const verifiedClaims = async (accessToken: string) => {
    const keys = (await request(server.url).get('/oauth/jwks')).body as JSONWebKeySet;
    return (await jwtVerify(accessToken, createLocalJWKSet(keys), { issuer: TEST_ISSUER })).payload;
  };

  it('a projected service-account token file obtains an access token, then its rotated successor', async () => {
    const first = await fetchToken('projected');
    expect(first.status).toBe(200);
    expect(first.body.scope).toBe('invoices:read');
    expect(await verifiedClaims(first.body.access_token as string)).toMatchObject({
      client_id: 'projected-workload',
      scope: 'invoices:read',
    });
    const firstAssertion = sent.at(-1)!;
    expect(decodeJwt(firstAssertion)).toMatchObject({
      iss: idp.issuer,
      sub: 'system:serviceaccount:payments:billing',
      aud: [TEST_ISSUER],
      'kubernetes.io': expect.objectContaining({ namespace: 'payments' }),
    });

    // Cached: no new request, no new assertion.
    const count = sent.length;
    expect((await fetchToken('projected')).body.access_token).toBe(first.body.access_token);
    expect(sent).toHaveLength(count);

    // The kubelet rotates the token; the next fetch sends the new one. The old one is spent
    // (single-use credential), so only the new token can succeed.
    const rotated = await idp.mint({ audience: [TEST_ISSUER] });
    writeToken(rotated);
    const second = await fetchToken('projected', true);
    expect(second.status).toBe(200);
    expect(second.body.access_token).toEqual(expect.any(String));
    expect(second.body.access_token).not.toBe(first.body.access_token);
    expect(sent.at(-1)).toBe(rotated);
    expect(sent.at(-1)).not.toBe(firstAssertion);
  });

  it('a stale file is refused by the server as a replay, the error reaching the workload', async () => {
    // The file still holds the token spent by the previous fetch.
    const res = await fetchToken('projected', true);
    expect(res.body).toEqual({ error: 'invalid_client', status: 401 });
    await server.app.get(TypeOrmClientStore).flush();
    const failures = await request(server.url)
      .get('/admin/clients/projected-workload/failures')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(failures.body[0]).toMatchObject({ reason: 'jti_replayed' });
    writeToken(await idp.mint({ audience: [TEST_ISSUER] }));
    expect((await fetchToken('projected', true)).status).toBe(200);
  });

  it('a federated token callback obtains an access token, called with the server’s issuer', async () => {
    const res = await fetchToken('callback');
    expect(res.status).toBe(200);
    expect(await verifiedClaims(res.body.access_token as string)).toMatchObject({
      client_id: 'callback-workload',
    });
    expect(callbackContexts.at(-1)).toMatchObject({
      clientId: 'callback-workload',
      issuer: TEST_ISSUER,
      tokenEndpoint: `${TEST_ISSUER}/oauth/token`,
    });
    expect(decodeJwt(sent.at(-1)!)).toMatchObject({
      sub: 'system:serviceaccount:ci:deployer',
      namespace: 'ci',
    });
    // Every token request asks the callback again: a fresh single-use token each time.
    const again = await fetchToken('callback', true);
    expect(again.status).toBe(200);
    expect(callbackContexts).toHaveLength(2);
  });
});
