/**
 * The outgoing side against the project's reference server (SPEC S7): the signer's assertions
 * are accepted for every algorithm the server supports, the token client discovers the server
 * (RFC 8414) and obtains RFC 9068 access tokens, key files rotate without a restart, a KMS-style
 * callback signs, and the fetch wrapper refreshes once on a 401 from a protected API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  createAuthorizedFetch,
  PRIVATE_KEY_JWT_ALGORITHMS,
  TokenClient,
  TokenEndpointError,
  TypeOrmClientStore,
  type FetchFunction,
  type TokenClientOptions,
} from 'nestjs-client-auth';
import { fixtureKey, type FixtureAlg } from '../fixtures/keys/index.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from '../utils/loopback-http.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const fixtureFor = (alg: string): FixtureAlg => (alg === 'Ed25519' ? 'EdDSA' : (alg as FixtureAlg));

describe('outgoing side against the reference server', () => {
  let server: TestServer;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  let tokenPosts = 0;
  const clients: TokenClient[] = [];
  let dir: string;

  /**
   * The reference server's issuer is https://as.example.test while it listens on loopback:
   * requests to the issuer's origin go to the server, as DNS would send them in production.
   */
  const viaLoopback: FetchFunction = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(TEST_ISSUER) && init?.method === 'POST') tokenPosts++;
    return fetch(url.replace(TEST_ISSUER, server.url), init);
  };

  const tokenClient = (options: Omit<TokenClientOptions, 'issuer'>) => {
    const client = new TokenClient({ issuer: TEST_ISSUER, fetch: viaLoopback, ...options });
    clients.push(client);
    return client;
  };

  /** The registration after the store's coalesced success writes (SPEC S2.8 readiness). */
  const registrationOf = async (clientId: string) => {
    await server.app.get(TypeOrmClientStore).flush();
    return server.registry.getClient(clientId);
  };

  const verifyAccessToken = async (token: string, clientId: string) => {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: TEST_ISSUER,
      subject: clientId,
      typ: 'at+jwt',
    });
    expect(payload.client_id).toBe(clientId);
  };

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    const keys = (await (await fetch(`${server.url}/oauth/jwks`)).json()) as JSONWebKeySet;
    jwks = createLocalJWKSet(keys);
    dir = mkdtempSync(join(tmpdir(), 'outgoing-e2e-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('every algorithm the server accepts', () => {
    it.each(PRIVATE_KEY_JWT_ALGORITHMS)('private_key_jwt %s', async (alg) => {
      const fx = fixtureKey(fixtureFor(alg));
      const clientId = `pkj-${alg}`;
      await server.registry.createClient({
        clientId,
        tokenEndpointAuthMethod: 'private_key_jwt',
        tokenEndpointAuthSigningAlg: alg,
        jwks: { keys: [{ ...fx.publicJwk, alg }] },
        scope: 'api:read',
      });
      const client = tokenClient({
        clientId,
        signingKey: { jwk: fx.privateJwk, alg },
        scope: 'api:read',
      });
      const token = await client.getToken();
      expect(token).toMatchObject({ tokenType: 'Bearer', scope: 'api:read', expiresIn: 300 });
      await verifyAccessToken(token.accessToken, clientId);
      // The server recorded an rfc7523bis-ready assertion (SPEC S2.8 readiness).
      expect(await registrationOf(clientId)).toMatchObject({
        lastAudienceForm: 'issuer',
        lastAssertionTyp: 'client-authentication+jwt',
      });
    });

    it.each(CLIENT_SECRET_JWT_ALGORITHMS)('client_secret_jwt %s', async (alg) => {
      const clientId = `csj-${alg}`;
      const { clientSecret } = await server.registry.createClient({
        clientId,
        tokenEndpointAuthMethod: 'client_secret_jwt',
        tokenEndpointAuthSigningAlg: alg,
      });
      const client = tokenClient({
        clientId,
        clientSecret: clientSecret!,
        authMethod: 'client_secret_jwt',
        assertion: { alg },
      });
      await verifyAccessToken((await client.getToken()).accessToken, clientId);
    });
  });

  it('discovers the token endpoint with RFC 8414 from the issuer', async () => {
    const client = tokenClient({
      clientId: 'pkj-ES256',
      signingKey: { jwk: fixtureKey('ES256').privateJwk },
    });
    const metadata = await client.metadata();
    expect(metadata).toMatchObject({
      issuer: TEST_ISSUER,
      token_endpoint: `${TEST_ISSUER}/oauth/token`,
    });
    expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining([...PRIVATE_KEY_JWT_ALGORITHMS, ...CLIENT_SECRET_JWT_ALGORITHMS]),
    );
  });

  it('the token endpoint audience is accepted under compat and refused, unretried, under strict', async () => {
    const fx = fixtureKey('ES384');
    for (const [clientId, audiencePolicy] of [
      ['aud-compat', 'compat'],
      ['aud-strict', 'strict'],
    ] as const) {
      await server.registry.createClient({
        clientId,
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [fx.publicJwk] },
        audiencePolicy,
      });
    }
    const options = {
      signingKey: { jwk: fx.privateJwk },
      assertion: { audience: 'token_endpoint' as const },
    };
    await tokenClient({ clientId: 'aud-compat', ...options }).getToken();
    expect((await registrationOf('aud-compat'))?.lastAudienceForm).toBe('token_endpoint');

    const before = tokenPosts;
    const error = (await tokenClient({
      clientId: 'aud-strict',
      ...options,
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    })
      .getToken()
      .catch((e: unknown) => e)) as TokenEndpointError;
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client', attempts: 1 });
    expect(error.errorDescription).toMatch(/aud/);
    expect(tokenPosts - before).toBe(1);
  });

  it('client_secret_basic and client_secret_post', async () => {
    for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
      const { clientSecret } = await server.registry.createClient({
        clientId: `secret ${method}`,
        tokenEndpointAuthMethod: method,
      });
      const client = tokenClient({
        clientId: `secret ${method}`,
        clientSecret: clientSecret!,
        authMethod: method,
      });
      await verifyAccessToken((await client.getToken()).accessToken, `secret ${method}`);
    }
  });

  it('one token request for many concurrent callers, then the cache', async () => {
    const client = tokenClient({
      clientId: 'pkj-ES256',
      signingKey: { jwk: fixtureKey('ES256').privateJwk },
    });
    const before = tokenPosts;
    const tokens = await Promise.all(Array.from({ length: 25 }, () => client.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    await client.getAccessToken();
    expect(tokenPosts - before).toBe(1);
  });

  it('a rotated key file is picked up without a restart', async () => {
    const path = join(dir, 'rotating.json');
    const [oldKey, newKey] = [fixtureKey('ES256', 0), fixtureKey('ES256', 1)];
    writeFileSync(path, JSON.stringify(oldKey.privateJwk));
    await server.registry.createClient({
      clientId: 'rotating',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [oldKey.publicJwk] },
    });
    let reloaded!: () => void;
    const reload = new Promise<void>((resolve) => (reloaded = resolve));
    const client = tokenClient({
      clientId: 'rotating',
      signingKey: { file: path, checkIntervalMs: 25, onReload: () => reloaded() },
    });
    await client.getToken();

    // Rotation with overlap: publish the new key, swap the file, then revoke the old key.
    await server.registry.addPublicKey('rotating', newKey.publicJwk);
    writeFileSync(`${path}.tmp`, JSON.stringify(newKey.privateJwk));
    renameSync(`${path}.tmp`, path);
    await reload;
    const old = (await server.registry.getClient('rotating'))!.credentials.find(
      (c) => c.kid === oldKey.kid,
    )!;
    await server.registry.revokeCredential('rotating', old.id);

    const assertion = await client.createClientAssertion();
    expect(JSON.parse(Buffer.from(assertion.split('.')[0]!, 'base64url').toString()).kid).toBe(
      newKey.kid,
    );
    await verifyAccessToken(
      (await client.getToken({ forceRefresh: true })).accessToken,
      'rotating',
    );
  });

  it('a KMS-style callback signs with a key the library never holds', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = {
      ...(publicKey.export({ format: 'jwk' }) as JWK),
      kid: 'hsm-key-7',
      alg: 'ES256',
    };
    await server.registry.createClient({
      clientId: 'hsm',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [publicJwk] },
    });
    let calls = 0;
    const client = tokenClient({
      clientId: 'hsm',
      signingKey: {
        alg: 'ES256',
        kid: 'hsm-key-7',
        // An HSM returns DER; the library converts it to the JOSE form (RFC 7518 §3.4).
        sign: async (input) => {
          calls++;
          return cryptoSign('sha256', input, { key: privateKey, dsaEncoding: 'der' });
        },
      },
    });
    await verifyAccessToken((await client.getToken()).accessToken, 'hsm');
    expect(calls).toBe(1);
  });

  describe('fetch wrapper against a protected API', () => {
    let api: LoopbackServer;
    const revoked = new Set<string>();

    beforeAll(async () => {
      // A resource server: RFC 9068 tokens checked against the reference server's JWKS.
      api = await startLoopbackServer(async (req, res) => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        try {
          const { payload } = await jwtVerify(token ?? '', jwks, {
            issuer: TEST_ISSUER,
            typ: 'at+jwt',
          });
          if (revoked.has(payload.jti!)) throw new Error('revoked');
          sendJson(res, 200, { client: payload.client_id });
        } catch {
          sendJson(
            res,
            401,
            { error: 'invalid_token' },
            { 'www-authenticate': 'Bearer error="invalid_token"' },
          );
        }
      });
    });
    afterAll(() => api.close());

    it('attaches the token and refreshes once after a 401', async () => {
      const client = tokenClient({
        clientId: 'pkj-PS256',
        signingKey: { jwk: fixtureKey('PS256').privateJwk, alg: 'PS256' },
      });
      const apiFetch = createAuthorizedFetch(client);
      expect(await (await apiFetch(`${api.url}/reports`)).json()).toEqual({ client: 'pkj-PS256' });
      const first = await client.getAccessToken();
      revoked.add(decodeJwt(first).jti!);
      const response = await apiFetch(`${api.url}/reports`);
      expect(response.status).toBe(200);
      expect(api.requests.slice(-2).map((r) => r.headers.authorization)).toEqual([
        `Bearer ${first}`,
        `Bearer ${await client.getAccessToken()}`,
      ]);
      expect(await client.getAccessToken()).not.toBe(first);
    });
  });
});
