/**
 * The authorization server endpoints over real HTTP (SPEC S4, issue 4): the RFC 7523 §2.1 JWT
 * bearer grant from trusted issuers, RFC 7662 introspection, RFC 7009 revocation, RFC 8707
 * resources, server key rotation and RFC 8414 discovery, on SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import request from 'supertest';
import {
  AccessTokenService,
  CLIENT_AUTH_ENTITIES,
  ClientAuthModule,
  ClientRegistryModule,
  ClientRegistryService,
  migrationsFor,
  OAuthServerModule,
  type OAuthServerOptions,
  type RegisteredClient,
  signAccessToken,
} from 'nestjs-client-auth';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/app-config.js';
import {
  ASSERTION_TYPE,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { createTestDatabase, type TestDatabaseKind } from '../utils/database.js';
import {
  startTestServer,
  TEST_DATABASES,
  TEST_ISSUER,
  TEST_TOKEN_ENDPOINT,
  type TestServer,
} from '../utils/test-server.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const API = 'https://api.example.test';
const BILLING = 'https://billing.example.test/v1';
/** A trusted issuer whose keys are served by the test's loopback JWKS. */
const IDP = 'https://idp.example.test';
/** A trusted issuer with inline keys, limited to one subject. */
const CI = 'https://ci.example.test';

/** Every member of a successful introspection response this server sends (RFC 7662 §2.2). */
const INTROSPECTION_MEMBERS = [
  'active',
  'aud',
  'client_id',
  'exp',
  'iat',
  'iss',
  'jti',
  'scope',
  'sub',
  'token_type',
].sort();

const now = () => Math.floor(Date.now() / 1000);

describe.each(TEST_DATABASES)('authorization server endpoints on %s (SPEC S4)', (kind) => {
  let server: TestServer;
  let idpKey: TestKeyPair;
  let ciKey: TestKeyPair;
  let strangerKey: TestKeyPair;
  let svcKey: TestKeyPair;
  let otherSecret: string;
  let jwksServer: Server;
  let jwksRequests = 0;

  beforeAll(async () => {
    [idpKey, ciKey, strangerKey, svcKey] = await Promise.all([
      generateTestKey('ES256'),
      generateTestKey('RS256'),
      generateTestKey('ES256'),
      generateTestKey('ES256'),
    ]);
    jwksServer = createServer((_req, res) => {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [idpKey.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;
    server = await startTestServer(kind, {
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
      ADMIN_TOKEN,
      RESOURCE_INDICATORS: `${API},${BILLING}`,
      TRUSTED_ISSUERS: JSON.stringify([
        { issuer: IDP, jwks_uri: jwksUri },
        { issuer: CI, jwks: { keys: [ciKey.publicJwk] }, subjects: ['repo:acme/api'] },
      ]),
    });
    await server.registry.createClient({
      clientId: 'svc',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [svcKey.publicJwk] },
      scope: 'read write',
      grantTypes: ['client_credentials', JWT_BEARER],
    });
    otherSecret = (
      await server.registry.createClient({
        clientId: 'other',
        tokenEndpointAuthMethod: 'client_secret_basic',
        scope: 'read',
        grantTypes: ['client_credentials'],
      })
    ).clientSecret!;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await new Promise<void>((resolve) =>
      jwksServer ? jwksServer.close(() => resolve()) : resolve(),
    );
  });

  /** Client authentication of `svc` (private_key_jwt), as form members. */
  const svcAuth = async (): Promise<Record<string, string>> => ({
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await signAssertion(
      svcKey.privateKey,
      svcKey.alg,
      { clientId: 'svc', aud: TEST_ISSUER },
      { kid: svcKey.kid },
    ),
  });
  const otherAuth = () => basicAuthorization('other', otherSecret);

  const tokenRequest = (form: Record<string, string>, authorization?: string) => {
    const req = request(server.url).post('/oauth/token').type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const svcToken = async (extra: Record<string, string> = {}) => {
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      ...(await svcAuth()),
      ...extra,
    });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const otherToken = async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials' }, otherAuth());
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const introspectAsSvc = async (token: string) =>
    request(server.url)
      .post('/oauth/introspect')
      .type('form')
      .send({ token, ...(await svcAuth()) });
  const introspectAsOther = (token: string) =>
    request(server.url)
      .post('/oauth/introspect')
      .type('form')
      .set('Authorization', otherAuth())
      .send({ token });
  const revokeAsSvc = async (token: string, extra: Record<string, string> = {}) =>
    request(server.url)
      .post('/oauth/revoke')
      .type('form')
      .send({ token, ...extra, ...(await svcAuth()) });
  const serverJwks = async () =>
    createLocalJWKSet((await request(server.url).get('/oauth/jwks')).body as { keys: JWK[] });

  /** A grant assertion from `iss`, signed with `key`. */
  const grantAssertion = (
    key: TestKeyPair,
    iss: string,
    claims: Partial<Parameters<typeof signAssertion>[2]> = {},
  ) =>
    signAssertion(
      key.privateKey,
      key.alg,
      { clientId: iss, iss, sub: 'alice', aud: TEST_ISSUER, ...claims },
      { kid: key.kid },
    );
  const jwtBearer = async (assertion: string, extra: Record<string, string> = {}) =>
    tokenRequest({ grant_type: JWT_BEARER, assertion, ...(await svcAuth()), ...extra });

  const expectRefused = (res: request.Response, status: number, error: string) => {
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(typeof res.body.error_description).toBe('string');
    expect(res.body.access_token).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
  };

  describe('JWT bearer grant (RFC 7523 §2.1, §3)', () => {
    it('accepts an assertion from a trusted issuer (jwks_uri): sub = asserted subject, client_id = the client', async () => {
      const res = await jwtBearer(await grantAssertion(idpKey, IDP), { scope: 'read' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'read', expires_in: 300 });
      const { payload, protectedHeader } = await jwtVerify(
        res.body.access_token,
        await serverJwks(),
        { issuer: TEST_ISSUER, audience: TEST_ISSUER, typ: 'at+jwt' },
      );
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(payload).toMatchObject({ sub: 'alice', client_id: 'svc', scope: 'read' });
      expect(jwksRequests).toBeGreaterThanOrEqual(1);
    });

    it('accepts aud = the token endpoint URL, and an issuer with inline keys', async () => {
      const viaEndpoint = await jwtBearer(
        await grantAssertion(idpKey, IDP, { aud: TEST_TOKEN_ENDPOINT }),
      );
      expect(viaEndpoint.status).toBe(200);
      const ci = await jwtBearer(await grantAssertion(ciKey, CI, { sub: 'repo:acme/api' }));
      expect(ci.status).toBe(200);
      const { payload } = await jwtVerify(ci.body.access_token, await serverJwks());
      expect(payload).toMatchObject({ sub: 'repo:acme/api', client_id: 'svc' });
    });

    it('refuses an untrusted issuer with invalid_grant', async () => {
      expectRefused(
        await jwtBearer(await grantAssertion(strangerKey, 'https://evil.example.test')),
        400,
        'invalid_grant',
      );
      // The trusted issuer's name with a key it does not publish.
      expectRefused(await jwtBearer(await grantAssertion(strangerKey, IDP)), 400, 'invalid_grant');
    });

    it('refuses a wrong audience, an expired assertion and a subject the issuer may not assert', async () => {
      expectRefused(
        await jwtBearer(await grantAssertion(idpKey, IDP, { aud: 'https://other.example.test' })),
        400,
        'invalid_grant',
      );
      expectRefused(
        await jwtBearer(await grantAssertion(idpKey, IDP, { iat: now() - 600, exp: now() - 120 })),
        400,
        'invalid_grant',
      );
      expectRefused(
        await jwtBearer(await grantAssertion(ciKey, CI, { sub: 'repo:evil/api' })),
        400,
        'invalid_grant',
      );
    });

    it('refuses a replayed assertion; a refused one does not burn its jti', async () => {
      const jti = randomBytes(8).toString('hex');
      const wrongAud = await grantAssertion(idpKey, IDP, { jti, aud: 'https://x.example.test' });
      expectRefused(await jwtBearer(wrongAud), 400, 'invalid_grant');
      const assertion = await grantAssertion(idpKey, IDP, { jti });
      expect((await jwtBearer(assertion)).status).toBe(200);
      const replay = await jwtBearer(assertion);
      expectRefused(replay, 400, 'invalid_grant');
      expect(replay.body.error_description).toMatch(/already used/);
    });

    it('a client not registered for the grant gets unauthorized_client, and the assertion is not spent', async () => {
      const assertion = await grantAssertion(idpKey, IDP);
      const res = await tokenRequest({ grant_type: JWT_BEARER, assertion }, otherAuth());
      expectRefused(res, 400, 'unauthorized_client');
      expect((await jwtBearer(assertion)).status).toBe(200);
    });

    it('a missing assertion is invalid_request; an unauthenticated request is invalid_client', async () => {
      expectRefused(
        await tokenRequest({ grant_type: JWT_BEARER, ...(await svcAuth()) }),
        400,
        'invalid_request',
      );
      const unauthenticated = await tokenRequest({
        grant_type: JWT_BEARER,
        assertion: await grantAssertion(idpKey, IDP),
      });
      expectRefused(unauthenticated, 401, 'invalid_client');
    });
  });

  describe('resource indicators (RFC 8707)', () => {
    it('maps resource to aud, one as a string and several as an array', async () => {
      const jwks = await serverJwks();
      const one = await svcToken({ resource: API });
      expect((await jwtVerify(one, jwks, { audience: API })).payload.aud).toBe(API);
      const both = await request(server.url)
        .post('/oauth/token')
        .type('form')
        .send(
          `grant_type=client_credentials&resource=${encodeURIComponent(API)}&resource=${encodeURIComponent(BILLING)}&${new URLSearchParams(await svcAuth()).toString()}`,
        );
      expect(both.status).toBe(200);
      expect((await jwtVerify(both.body.access_token, jwks)).payload.aud).toEqual([API, BILLING]);
      const introspected = await introspectAsSvc(both.body.access_token);
      expect(introspected.body).toMatchObject({ active: true, aud: [API, BILLING] });
    });

    it('maps resource to aud for the JWT bearer grant too', async () => {
      const res = await jwtBearer(await grantAssertion(idpKey, IDP), { resource: BILLING });
      expect(res.status).toBe(200);
      expect((await jwtVerify(res.body.access_token, await serverJwks())).payload.aud).toBe(
        BILLING,
      );
    });

    it('refuses an unknown resource and a resource with a fragment: invalid_target', async () => {
      expectRefused(
        await tokenRequest({
          grant_type: 'client_credentials',
          resource: 'https://unknown.example.test',
          ...(await svcAuth()),
        }),
        400,
        'invalid_target',
      );
      expectRefused(
        await tokenRequest({
          grant_type: 'client_credentials',
          resource: `${API}#x`,
          ...(await svcAuth()),
        }),
        400,
        'invalid_target',
      );
    });
  });

  describe('introspection (RFC 7662)', () => {
    it('describes an active token with every §2.2 member', async () => {
      const token = await svcToken({ scope: 'read write' });
      const res = await introspectAsSvc(token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body).sort()).toEqual(INTROSPECTION_MEMBERS);
      const { payload } = await jwtVerify(token, await serverJwks());
      expect(res.body).toEqual({
        active: true,
        scope: 'read write',
        client_id: 'svc',
        token_type: 'Bearer',
        exp: payload.exp,
        iat: payload.iat,
        sub: 'svc',
        aud: TEST_ISSUER,
        iss: TEST_ISSUER,
        jti: payload.jti,
      });
    });

    it('an expired token of this server is inactive (one signed now with the same key is active)', async () => {
      const keys = server.app.get(AccessTokenService).keys;
      const forge = (at: Date) =>
        signAccessToken(keys.signingKey(), {
          issuer: TEST_ISSUER,
          clientId: 'svc',
          subject: 'svc',
          audience: TEST_ISSUER,
          ttlSeconds: 60,
          now: at,
        });
      const expired = await forge(new Date(Date.now() - 3_600_000));
      expect((await introspectAsSvc(expired.token)).body).toEqual({ active: false });
      const fresh = await forge(new Date());
      expect((await introspectAsSvc(fresh.token)).body).toMatchObject({
        active: true,
        jti: fresh.jti,
      });
    });

    it('a token of another client is inactive under the default policy; its owner sees it', async () => {
      const token = await otherToken();
      const bySvc = await introspectAsSvc(token);
      expect(bySvc.status).toBe(200);
      expect(bySvc.body).toEqual({ active: false });
      const byOwner = await introspectAsOther(token);
      expect(byOwner.body).toMatchObject({ active: true, client_id: 'other', sub: 'other' });
    });

    it.each([
      ['garbage', 'not-a-token'],
      ['a JWT of someone else', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ])('%s is inactive', async (_name, token) => {
      const res = await introspectAsSvc(token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ active: false });
    });

    it('a tampered token is inactive', async () => {
      const [header, payload, signature] = (await svcToken()).split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString(
        'base64url',
      );
      expect((await introspectAsSvc(`${header}.${forged}.${signature}`)).body).toEqual({
        active: false,
      });
    });

    it('requires client authentication and a token parameter', async () => {
      const token = await svcToken();
      const anonymous = await request(server.url)
        .post('/oauth/introspect')
        .type('form')
        .send({ token });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('invalid_client');
      const missing = await request(server.url)
        .post('/oauth/introspect')
        .type('form')
        .send(await svcAuth());
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('invalid_request');
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revokes a token of the caller: introspection then says inactive', async () => {
      const token = await svcToken();
      expect((await introspectAsSvc(token)).body.active).toBe(true);
      const res = await revokeAsSvc(token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect((await introspectAsSvc(token)).body).toEqual({ active: false });
      // Revoking again (or revoking garbage) still answers 200 (§2.2).
      expect((await revokeAsSvc(token)).status).toBe(200);
      expect((await revokeAsSvc('garbage')).status).toBe(200);
    });

    it('answers 200 for a token of another client but leaves it active', async () => {
      const token = await otherToken();
      expect((await revokeAsSvc(token)).status).toBe(200);
      expect((await introspectAsOther(token)).body.active).toBe(true);
    });

    it('a wrong token_type_hint does not stop the revocation (§2.1: the server searches further)', async () => {
      const token = await svcToken();
      const res = await revokeAsSvc(token, { token_type_hint: 'refresh_token' });
      expect(res.status).toBe(200);
      expect((await introspectAsSvc(token)).body).toEqual({ active: false });
    });

    it('requires client authentication', async () => {
      const token = await svcToken();
      const res = await request(server.url).post('/oauth/revoke').type('form').send({ token });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect((await introspectAsSvc(token)).body.active).toBe(true);
    });
  });

  describe('server key rotation', () => {
    const admin = () => `Bearer ${ADMIN_TOKEN}`;

    it('lists the keys for the admin only, without private members', async () => {
      expect((await request(server.url).get('/admin/server-keys')).status).toBe(401);
      const res = await request(server.url).get('/admin/server-keys').set('Authorization', admin());
      expect(res.status).toBe(200);
      expect(res.body.map((key: { status: string }) => key.status)).toEqual(['current', 'next']);
      for (const key of res.body as { public_jwk: JWK }[]) {
        expect(key.public_jwk.d).toBeUndefined();
      }
      expect(JSON.stringify(res.body)).not.toMatch(/"d":/);
    });

    it('rotates without downtime: old tokens stay valid, new tokens use the key published as next', async () => {
      const before = await svcToken();
      const oldKid = decodeProtectedHeader(before).kid!;
      const listed = await request(server.url)
        .get('/admin/server-keys')
        .set('Authorization', admin());
      const nextKid = (listed.body as { kid: string; status: string }[]).find(
        (key) => key.status === 'next',
      )!.kid;
      // The next key is published before it signs anything.
      const jwksBefore = (await request(server.url).get('/oauth/jwks')).body as { keys: JWK[] };
      expect(jwksBefore.keys.map((key) => key.kid)).toEqual(
        expect.arrayContaining([oldKid, nextKid]),
      );

      expect((await request(server.url).post('/admin/server-keys/rotate')).status).toBe(401);
      const rotated = await request(server.url)
        .post('/admin/server-keys/rotate')
        .set('Authorization', admin());
      expect(rotated.status).toBe(200);
      const byStatus = Object.fromEntries(
        (rotated.body as { kid: string; status: string; not_after: string | null }[]).map((key) => [
          key.status,
          key,
        ]),
      );
      expect(byStatus.current?.kid).toBe(nextKid);
      expect(byStatus.retiring?.kid).toBe(oldKid);
      expect(Date.parse(byStatus.retiring!.not_after!)).toBeGreaterThan(Date.now());
      expect(byStatus.next?.kid).toBeDefined();

      // The retiring key is still published: the earlier token verifies and introspects active.
      const jwksAfter = await request(server.url).get('/oauth/jwks');
      expect(jwksAfter.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
      expect((jwksAfter.body as { keys: JWK[] }).keys.map((key) => key.kid).sort()).toEqual(
        [oldKid, nextKid, byStatus.next!.kid].sort(),
      );
      await expect(
        jwtVerify(before, createLocalJWKSet(jwksAfter.body), { issuer: TEST_ISSUER }),
      ).resolves.toBeDefined();
      expect((await introspectAsSvc(before)).body.active).toBe(true);

      const after = await svcToken();
      expect(decodeProtectedHeader(after).kid).toBe(nextKid);
      await expect(
        jwtVerify(after, createLocalJWKSet(jwksAfter.body), { issuer: TEST_ISSUER }),
      ).resolves.toBeDefined();
      expect((await introspectAsSvc(after)).body.active).toBe(true);
    });
  });

  describe('discovery (RFC 8414)', () => {
    it('lists every endpoint with its auth methods and algorithms, from the live configuration', async () => {
      const res = await request(server.url).get('/.well-known/oauth-authorization-server');
      expect(res.status).toBe(200);
      const metadata = res.body as Record<string, unknown>;
      expect(metadata).toMatchObject({
        issuer: TEST_ISSUER,
        token_endpoint: `${TEST_ISSUER}/oauth/token`,
        jwks_uri: `${TEST_ISSUER}/oauth/jwks`,
        introspection_endpoint: `${TEST_ISSUER}/oauth/introspect`,
        revocation_endpoint: `${TEST_ISSUER}/oauth/revoke`,
        registration_endpoint: `${TEST_ISSUER}/oauth/register`,
        grant_types_supported: ['client_credentials', JWT_BEARER],
        access_token_signing_alg_values_supported: ['ES256'],
        resource_indicators_supported: true,
      });
      for (const endpoint of ['token', 'introspection', 'revocation']) {
        const methods = metadata[`${endpoint}_endpoint_auth_methods_supported`] as string[];
        expect(methods).toEqual(
          expect.arrayContaining([
            'private_key_jwt',
            'client_secret_jwt',
            'client_secret_basic',
            'client_secret_post',
          ]),
        );
        expect(methods).not.toContain('none');
        const algs = metadata[`${endpoint}_endpoint_auth_signing_alg_values_supported`] as string[];
        expect(algs).toEqual(expect.arrayContaining(['RS256', 'ES256', 'PS256', 'EdDSA', 'HS256']));
        expect(algs).not.toContain('none');
      }
      // Nothing the server does not do.
      for (const absent of [
        'authorization_endpoint',
        'userinfo_endpoint',
        'end_session_endpoint',
      ]) {
        expect(metadata).not.toHaveProperty(absent);
      }
      expect(metadata.grant_types_supported).not.toContain('authorization_code');

      const openid = await request(server.url).get('/.well-known/openid-configuration');
      expect(openid.status).toBe(200);
      expect(openid.body).toMatchObject(metadata);
    });

    it('jwks_uri serves the keys the server signs with', async () => {
      const metadata = (await request(server.url).get('/.well-known/oauth-authorization-server'))
        .body as { jwks_uri: string };
      const path = new URL(metadata.jwks_uri).pathname;
      const jwks = (await request(server.url).get(path)).body as { keys: JWK[] };
      await expect(jwtVerify(await svcToken(), createLocalJWKSet(jwks))).resolves.toBeDefined();
    });
  });
});

describe('an authorization server without trusted issuers or resources', () => {
  let server: TestServer;
  let secret: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    secret = (
      await server.registry.createClient({
        clientId: 'plain',
        tokenEndpointAuthMethod: 'client_secret_basic',
        grantTypes: ['client_credentials', JWT_BEARER],
      })
    ).clientSecret!;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it('does not offer the JWT bearer grant, in discovery or at the token endpoint', async () => {
    const metadata = (await request(server.url).get('/.well-known/oauth-authorization-server'))
      .body as Record<string, unknown>;
    expect(metadata.grant_types_supported).toEqual(['client_credentials']);
    expect(metadata).not.toHaveProperty('resource_indicators_supported');
    const res = await request(server.url)
      .post('/oauth/token')
      .type('form')
      .set('Authorization', basicAuthorization('plain', secret))
      .send({ grant_type: JWT_BEARER, assertion: 'a.b.c' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  it('refuses any resource with invalid_target', async () => {
    const res = await request(server.url)
      .post('/oauth/token')
      .type('form')
      .set('Authorization', basicAuthorization('plain', secret))
      .send({ grant_type: 'client_credentials', resource: API });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });
});

describe.each(TEST_DATABASES)('revocations and server keys survive a restart on %s', (kind) => {
  let dataDir: string;
  let drop: () => Promise<void>;
  let env: Record<string, string>;
  let app: INestApplication | undefined;

  /** Starts the reference server on the shared database, as `main.ts` would after a restart. */
  const start = async (): Promise<string> => {
    const config = loadConfig({ ISSUER: TEST_ISSUER, LOG_LEVEL: 'error', ...env });
    app = await createApp(config, { logger: false });
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  };
  const stop = async () => {
    await app?.close();
    app = undefined;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'client-auth-restart-'));
    const database = await createTestDatabase(kind as TestDatabaseKind);
    drop = () => database.drop();
    env = {
      DATA_DIR: dataDir,
      ...(database.url && {
        DATABASE_URL: database.url,
        SECRET_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      }),
    };
  });
  afterAll(async () => {
    await stop();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a revoked token stays inactive and an unrevoked one stays active after a restart', async () => {
    let url = await start();
    const { clientSecret } = await app!.get(ClientRegistryService).createClient({
      clientId: 'restart',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
    });
    const auth = basicAuthorization('restart', clientSecret!);
    const issue = async () =>
      (
        await request(url)
          .post('/oauth/token')
          .type('form')
          .set('Authorization', auth)
          .send({ grant_type: 'client_credentials' })
      ).body.access_token as string;
    const introspect = async (token: string) =>
      (
        await request(url)
          .post('/oauth/introspect')
          .type('form')
          .set('Authorization', auth)
          .send({ token })
      ).body as { active: boolean };

    const revoked = await issue();
    const kept = await issue();
    const keysBefore = (await request(url).get('/oauth/jwks')).body as { keys: JWK[] };
    expect(
      (
        await request(url)
          .post('/oauth/revoke')
          .type('form')
          .set('Authorization', auth)
          .send({ token: revoked })
      ).status,
    ).toBe(200);
    expect((await introspect(revoked)).active).toBe(false);

    await stop();
    url = await start();

    // Same persisted keys, so the unrevoked token is still recognised…
    expect((await request(url).get('/oauth/jwks')).body).toEqual(keysBefore);
    expect((await introspect(kept)).active).toBe(true);
    // …and the revoked one is still revoked.
    expect((await introspect(revoked)).active).toBe(false);
  }, 60_000);
});

describe.each([
  [
    'a policy function (a resource server may introspect every token)',
    {
      introspection: {
        allow: (caller: string, owner: string) => caller === 'rs' || caller === owner,
      },
    },
    { rsSeesA: true, bSeesA: false },
  ],
  ['policy "all"', { introspection: { allow: 'all' as const } }, { rsSeesA: true, bSeesA: true }],
  ['policy "own" (default)', {}, { rsSeesA: false, bSeesA: false }],
] as [string, Partial<OAuthServerOptions>, { rsSeesA: boolean; bSeesA: boolean }][])(
  'OAuthServerModule with introspection %s',
  (_name, options, expected) => {
    const issuer = 'https://module.example.test';
    let app: INestApplication;
    let dir: string;
    const keys = {} as Record<'a' | 'b' | 'rs', TestKeyPair>;

    const staticClient = (clientId: 'a' | 'b' | 'rs'): RegisteredClient => ({
      clientId,
      enabled: true,
      tokenEndpointAuthMethod: 'private_key_jwt',
      grantTypes: ['client_credentials'],
      metadata: {},
      credentials: [
        {
          id: `cred-${clientId}`,
          kind: 'public_key',
          status: 'active',
          kid: keys[clientId].kid,
          jwk: keys[clientId].publicJwk,
        },
      ],
    });
    const auth = async (clientId: 'a' | 'b' | 'rs') => ({
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await signAssertion(
        keys[clientId].privateKey,
        'ES256',
        { clientId, aud: issuer },
        { kid: keys[clientId].kid },
      ),
    });

    beforeAll(async () => {
      for (const id of ['a', 'b', 'rs'] as const) keys[id] = await generateTestKey('ES256');
      dir = mkdtempSync(join(tmpdir(), 'client-auth-policy-'));
      @Module({
        imports: [
          TypeOrmModule.forRoot({
            type: 'better-sqlite3',
            database: join(dir, 'db.sqlite'),
            entities: CLIENT_AUTH_ENTITIES,
            migrations: migrationsFor('better-sqlite3'),
            migrationsRun: true,
          }),
          ClientRegistryModule.forRoot({ secretEncryptionKey: randomBytes(32).toString('hex') }),
          ClientAuthModule.forRoot({
            isGlobal: true,
            issuer,
            clients: (['a', 'b', 'rs'] as const).map(staticClient),
          }),
          OAuthServerModule.forRoot({ issuer, ...options }),
        ],
      })
      class PolicyModule {}
      const moduleRef = await Test.createTestingModule({ imports: [PolicyModule] }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const tokenOf = async (clientId: 'a' | 'b' | 'rs') => {
      const res = await request(app.getHttpServer())
        .post('/oauth/token')
        .type('form')
        .send({ grant_type: 'client_credentials', ...(await auth(clientId)) });
      expect(res.status).toBe(200);
      return res.body.access_token as string;
    };
    const introspectAs = async (clientId: 'a' | 'b' | 'rs', token: string) =>
      (
        await request(app.getHttpServer())
          .post('/oauth/introspect')
          .type('form')
          .send({ token, ...(await auth(clientId)) })
      ).body as { active: boolean; client_id?: string };

    it('decides who learns about a token of client a', async () => {
      const token = await tokenOf('a');
      expect(await introspectAs('a', token)).toMatchObject({ active: true, client_id: 'a' });
      expect((await introspectAs('rs', token)).active).toBe(expected.rsSeesA);
      expect((await introspectAs('b', token)).active).toBe(expected.bSeesA);
    });

    it('revocation stays limited to the token owner whatever the introspection policy', async () => {
      const token = await tokenOf('a');
      const res = await request(app.getHttpServer())
        .post('/oauth/revoke')
        .type('form')
        .send({ token, ...(await auth('rs')) });
      expect(res.status).toBe(200);
      expect((await introspectAs('a', token)).active).toBe(true);
    });

    it('advertises no registration endpoint without the registry API', async () => {
      const metadata = (
        await request(app.getHttpServer()).get('/.well-known/oauth-authorization-server')
      ).body as Record<string, unknown>;
      expect(metadata.introspection_endpoint).toBe(`${issuer}/oauth/introspect`);
      expect(metadata).not.toHaveProperty('registration_endpoint');
      expect(metadata.grant_types_supported).toEqual(['client_credentials']);
    });
  },
);

describe('OAuthServerModule with introspection and revocation disabled', () => {
  const issuer = 'https://module.example.test';
  let app: INestApplication;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'client-auth-disabled-'));
    @Module({
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: join(dir, 'db.sqlite'),
          entities: CLIENT_AUTH_ENTITIES,
          migrations: migrationsFor('better-sqlite3'),
          migrationsRun: true,
        }),
        ClientRegistryModule.forRoot({ secretEncryptionKey: randomBytes(32).toString('hex') }),
        ClientAuthModule.forRoot({ isGlobal: true, issuer, clients: [] }),
        OAuthServerModule.forRoot({
          issuer,
          introspection: { enabled: false },
          revocation: { enabled: false },
        }),
      ],
    })
    class DisabledModule {}
    const moduleRef = await Test.createTestingModule({ imports: [DisabledModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves neither endpoint and does not advertise them', async () => {
    const http = app.getHttpServer();
    expect(
      (await request(http).post('/oauth/introspect').type('form').send({ token: 'x' })).status,
    ).toBe(404);
    expect(
      (await request(http).post('/oauth/revoke').type('form').send({ token: 'x' })).status,
    ).toBe(404);
    const metadata = (await request(http).get('/.well-known/oauth-authorization-server'))
      .body as Record<string, unknown>;
    expect(Object.keys(metadata).filter((key) => /introspection|revocation/.test(key))).toEqual([]);
    expect(metadata.token_endpoint).toBe(`${issuer}/oauth/token`);
  });
});
