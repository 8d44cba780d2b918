/**
 * The resource-server guard (SPEC S8) end to end: real access tokens from the reference server,
 * tokens crafted by an issuer of the test's own (discovery + JWKS on loopback), RFC 7662
 * introspection (a loopback endpoint and the reference server's own), and the reference server's
 * protected API module.
 */
import {
  Controller,
  Get,
  Global,
  type INestApplication,
  Module,
  type ModuleMetadata,
  Req,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import { SignJWT, type JWK } from 'jose';
import {
  AccessTokenClaims,
  AccessTokenGuard,
  ClientAuthModule,
  OAuthEndpointExceptionFilter,
  RequiredScopes,
  ResourceServerModule,
  ServerKeyService,
  type ResourceServerModuleOptions,
} from 'nestjs-client-auth';
import request from 'supertest';
import { ResourceModule } from '../../src/resource/resource.module.js';
import { signJws, unsignedJws } from '../fixtures/keys/helpers.js';
import {
  assertionForm,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from '../utils/loopback-http.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const OTHER_RESOURCE = 'https://billing.example.test';
const API = 'https://api.example.test';

/** The routes every test app serves. */
@Controller()
class ReportsController {
  @Get('whoami')
  @UseGuards(AccessTokenGuard)
  whoami(@AccessTokenClaims() claims: Record<string, unknown>) {
    return { client_id: claims.client_id, scope: claims.scope ?? '' };
  }

  @Get('reports')
  @UseGuards(AccessTokenGuard)
  @RequiredScopes('reports:read')
  reports(@AccessTokenClaims('client_id') clientId: string) {
    return { reports: ['r-1'], client_id: clientId };
  }

  @Get('passport/reports')
  @UseGuards(AuthGuard('oauth-access-token'), AccessTokenGuard)
  @RequiredScopes('reports:read')
  passport(@Req() req: Request) {
    return { user: (req.user as { clientId?: string }).clientId };
  }
}

async function startApp(metadata: ModuleMetadata): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

function resourceApp(options: ResourceServerModuleOptions): Promise<INestApplication> {
  return startApp({
    imports: [ResourceServerModule.forRoot(options)],
    controllers: [ReportsController],
  });
}

/** Flips one bit of the signature, keeping the token well-formed. */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  bytes[4]! ^= 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

const challenge = (realm: string, error: string, description: string, scope?: string) =>
  `Bearer realm="${realm}", error="${error}", error_description="${description}"` +
  (scope ? `, scope="${scope}"` : '');

describe('resource server guard', () => {
  let server: TestServer;
  let clientKey: TestKeyPair;

  /** A token from the reference server's token endpoint (client_credentials, private_key_jwt). */
  async function issue(extra: Record<string, string> = {}): Promise<string> {
    const assertion = await signAssertion(
      clientKey.privateKey,
      clientKey.alg,
      { clientId: 'reporter', aud: TEST_ISSUER },
      { kid: clientKey.kid },
    );
    const res = await request(server.url)
      .post('/oauth/token')
      .type('form')
      .send(assertionForm(assertion, extra));
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  }

  beforeAll(async () => {
    server = await startTestServer('sqlite', { RESOURCE_INDICATORS: OTHER_RESOURCE });
    clientKey = await generateTestKey('ES256');
    await server.registry.createClient({
      clientId: 'reporter',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [clientKey.publicJwk] },
      scope: 'reports:read other:read',
      grantTypes: ['client_credentials'],
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  describe('tokens of the reference server, keys from its jwks_uri over loopback', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await resourceApp({
        issuer: TEST_ISSUER,
        audience: server.config.accessTokenAudience,
        jwksUri: `${server.url}/oauth/jwks`,
        jwksCache: { fetch: { allowHosts: ['127.0.0.1'] } },
        realm: 'reports',
      });
    });
    afterAll(() => app?.close());

    const get = (path: string, token?: string) => {
      const req = request(app.getHttpServer()).get(path);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    };

    it('accepts a token from the reference server and yields its claims', async () => {
      const token = await issue({ scope: 'reports:read' });
      const res = await get('/whoami', token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ client_id: 'reporter', scope: 'reports:read' });
      const reports = await get('/reports', token);
      expect(reports.status).toBe(200);
      expect(reports.body).toEqual({ reports: ['r-1'], client_id: 'reporter' });
    });

    it('refuses a tampered token: 401 invalid_token with the challenge', async () => {
      const res = await get('/whoami', tamper(await issue()));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: 'invalid_token',
        error_description: 'the access token signature is invalid',
      });
      expect(res.headers['www-authenticate']).toBe(
        challenge('reports', 'invalid_token', 'the access token signature is invalid'),
      );
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('refuses a token issued for another resource (RFC 8707 aud): 401 invalid_token', async () => {
      const token = await issue({ resource: OTHER_RESOURCE });
      const res = await get('/whoami', token);
      expect(res.status).toBe(401);
      expect(res.body.error_description).toBe('the access token is not intended for this resource');
      expect(res.headers['www-authenticate']).toBe(
        challenge('reports', 'invalid_token', 'the access token is not intended for this resource'),
      );
    });

    it('refuses a token without the required scope: 403 insufficient_scope naming it', async () => {
      const res = await get('/reports', await issue({ scope: 'other:read' }));
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        error: 'insufficient_scope',
        error_description: 'the access token lacks a required scope',
      });
      expect(res.headers['www-authenticate']).toBe(
        challenge(
          'reports',
          'insufficient_scope',
          'the access token lacks a required scope',
          'reports:read',
        ),
      );
    });

    it('answers a request without a token with a bare challenge (RFC 6750 §3.1)', async () => {
      for (const res of [
        await get('/whoami'),
        await request(app.getHttpServer()).get('/whoami').set('Authorization', 'Basic YTpi'),
      ]) {
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="reports"');
        expect(res.text).toBe('');
      }
    });

    it('refuses a token in the query string: 400 invalid_request (RFC 6750 §2.1 only)', async () => {
      const token = await issue();
      const res = await request(app.getHttpServer()).get(`/whoami?access_token=${token}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['www-authenticate']).toMatch(
        /^Bearer realm="reports", error="invalid_request"/,
      );
      const malformed = await request(app.getHttpServer())
        .get('/whoami')
        .set('Authorization', 'Bearer two tokens');
      expect(malformed.status).toBe(400);
    });

    it('works through the oauth-access-token Passport strategy, scopes checked after it', async () => {
      const ok = await get('/passport/reports', await issue({ scope: 'reports:read' }));
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ user: 'reporter' });
      const refused = await get('/passport/reports', tamper(await issue()));
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
      const narrow = await get('/passport/reports', await issue({ scope: 'other:read' }));
      expect(narrow.status).toBe(403);
    });
  });

  describe("tokens of the test's own issuer (discovery, rotation, crafted claims)", () => {
    let issuer: LoopbackServer;
    let app: INestApplication;
    let key: TestKeyPair;
    let published: JWK[];

    const discoveries = () =>
      issuer.requests.filter((r) => r.url.startsWith('/.well-known/')).length;
    const jwksFetches = () => issuer.requests.filter((r) => r.url === '/jwks').length;

    async function sign(
      claims: Record<string, unknown> = {},
      header: Record<string, unknown> = {},
      signer: TestKeyPair = key,
    ): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer.url,
        sub: 'svc',
        aud: API,
        client_id: 'svc',
        scope: 'reports:read',
        iat: now,
        exp: now + 120,
        jti: `j-${Math.random()}`,
        ...claims,
      })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt', ...header })
        .sign(signer.privateKey);
    }

    beforeAll(async () => {
      key = await generateTestKey('ES256');
      published = [key.publicJwk];
      issuer = await startLoopbackServer((req, res) => {
        if (req.url === '/.well-known/oauth-authorization-server') {
          return sendJson(res, 200, {
            issuer: issuer.url,
            token_endpoint: `${issuer.url}/token`,
            jwks_uri: `${issuer.url}/jwks`,
          });
        }
        if (req.url === '/jwks') return sendJson(res, 200, { keys: published });
        sendJson(res, 404, {});
      });
      app = await resourceApp({
        issuer: issuer.url,
        audience: API,
        jwksCache: { fetch: { allowHosts: ['127.0.0.1'] }, cooldownSeconds: 0 },
      });
    });
    afterAll(async () => {
      await app?.close();
      await issuer?.close();
    });
    beforeEach(() => {
      issuer.requests.length = 0;
    });

    const get = (token: string, path = '/whoami') =>
      request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

    const expectInvalid = (res: request.Response, description: string) => {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
      expect(res.headers['www-authenticate']).toBe(challenge('api', 'invalid_token', description));
    };

    it('discovers the jwks_uri once and accepts a valid token', async () => {
      const first = await get(await sign());
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ client_id: 'svc', scope: 'reports:read' });
      expect((await get(await sign())).status).toBe(200);
      expect(discoveries()).toBe(1);
      expect(jwksFetches()).toBe(1);
    });

    it('refuses an expired token', async () => {
      const now = Math.floor(Date.now() / 1000);
      expectInvalid(
        await get(await sign({ iat: now - 600, exp: now - 300 })),
        'the access token expired',
      );
    });

    it('refuses a token for another audience, and one without aud', async () => {
      expectInvalid(
        await get(await sign({ aud: 'https://elsewhere.example.test' })),
        'the access token is not intended for this resource',
      );
      expectInvalid(await get(await sign({ aud: undefined })), 'the access token has no audience');
    });

    it('refuses a token of another issuer signed with the same key', async () => {
      expectInvalid(
        await get(await sign({ iss: 'https://as.example.test' })),
        'the access token was not issued by the expected issuer',
      );
    });

    it('refuses typ JWT and a token without typ (RFC 9068 §4)', async () => {
      const description = 'the token is not a JWT access token (typ must be at+jwt)';
      expectInvalid(await get(await sign({}, { typ: 'JWT' })), description);
      const noTyp = await signJws(
        { alg: 'ES256', kid: key.kid },
        { iss: issuer.url, aud: API, exp: Math.floor(Date.now() / 1000) + 60 },
        key.privateKey,
      );
      expectInvalid(await get(noTyp), description);
    });

    it('refuses alg none and HS256 keyed with the public key', async () => {
      const claims = { iss: issuer.url, aud: API, exp: Math.floor(Date.now() / 1000) + 60 };
      const description = 'the access token signing algorithm is not accepted';
      expectInvalid(await get(unsignedJws(claims, { typ: 'at+jwt' })), description);
      const hs = await signJws(
        { alg: 'HS256', kid: key.kid, typ: 'at+jwt' },
        claims,
        new TextEncoder().encode(JSON.stringify(key.publicJwk)),
      );
      expectInvalid(await get(hs), description);
    });

    it('refuses an unknown kid after one refetch of the JWKS', async () => {
      const stranger = await generateTestKey('ES256', 'unpublished');
      const before = jwksFetches();
      expectInvalid(
        await get(await sign({}, {}, stranger)),
        'the access token was signed with an unknown key',
      );
      expect(jwksFetches() - before).toBe(1);
    });

    it('follows the issuer rotating to a new key', async () => {
      const next = await generateTestKey('ES256', 'next-key');
      published = [key.publicJwk, next.publicJwk];
      const res = await get(await sign({}, {}, next));
      expect(res.status).toBe(200);
      expect(jwksFetches()).toBe(1);
    });
  });

  describe('next to ClientAuthModule (an authorization server protecting an API too)', () => {
    it.each([['before'], ['after']])(
      'answers with the RFC 6750 challenge when ResourceServerModule is imported %s it',
      async (position) => {
        const resourceServer = ResourceServerModule.forRoot({
          issuer: TEST_ISSUER,
          audience: server.config.accessTokenAudience,
          jwksUri: `${server.url}/oauth/jwks`,
          jwksCache: { fetch: { allowHosts: ['127.0.0.1'] } },
          realm: 'reports',
        });
        const clientAuth = ClientAuthModule.forRoot({ issuer: TEST_ISSUER, clients: [] });
        const app = await startApp({
          imports:
            position === 'before' ? [resourceServer, clientAuth] : [clientAuth, resourceServer],
          controllers: [ReportsController],
        });
        try {
          const tampered = await request(app.getHttpServer())
            .get('/reports')
            .set('Authorization', `Bearer ${tamper(await issue())}`);
          expect(tampered.status).toBe(401);
          expect(tampered.headers['www-authenticate']).toBe(
            challenge('reports', 'invalid_token', 'the access token signature is invalid'),
          );
          const none = await request(app.getHttpServer()).get('/reports');
          expect(none.status).toBe(401);
          expect(none.headers['www-authenticate']).toBe('Bearer realm="reports"');
          expect(none.text).toBe('');
        } finally {
          await app.close();
        }
      },
    );
  });

  describe('introspection mode (RFC 7662)', () => {
    describe('against a loopback introspection endpoint', () => {
      let endpoint: LoopbackServer;
      let app: INestApplication;
      let failing = false;
      const expectedBasic = `Basic ${Buffer.from('reports-api:rs-secret').toString('base64')}`;

      beforeAll(async () => {
        endpoint = await startLoopbackServer((req, res) => {
          if (failing) return sendJson(res, 500, { error: 'server_error' });
          if (req.headers.authorization !== expectedBasic) {
            return sendJson(res, 401, { error: 'invalid_client' });
          }
          const now = Math.floor(Date.now() / 1000);
          const token = req.form.get('token');
          if (token === 'opaque-active' || token === 'opaque-narrow') {
            return sendJson(res, 200, {
              active: true,
              iss: TEST_ISSUER,
              aud: API,
              client_id: 'svc',
              scope: token === 'opaque-active' ? 'reports:read' : 'other:read',
              exp: now + 300,
            });
          }
          if (token === 'opaque-foreign') {
            return sendJson(res, 200, { active: true, aud: OTHER_RESOURCE, exp: now + 300 });
          }
          sendJson(res, 200, { active: false });
        });
        app = await resourceApp({
          issuer: TEST_ISSUER,
          audience: API,
          introspection: {
            endpoint: `${endpoint.url}/introspect`,
            clientId: 'reports-api',
            clientSecret: 'rs-secret',
          },
        });
      });
      afterAll(async () => {
        await app?.close();
        await endpoint?.close();
      });

      const get = (token: string, path = '/whoami') =>
        request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

      it('accepts an active opaque token and caches the answer', async () => {
        const first = await get('opaque-active');
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ client_id: 'svc', scope: 'reports:read' });
        expect((await get('opaque-active', '/reports')).status).toBe(200);
        expect(
          endpoint.requests.filter((r) => r.form.get('token') === 'opaque-active'),
        ).toHaveLength(1);
        expect(endpoint.requests[0]!.form.get('token_type_hint')).toBe('access_token');
      });

      it('refuses an inactive token: 401 invalid_token', async () => {
        const res = await get('opaque-revoked');
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe(
          challenge('api', 'invalid_token', 'the access token is not active'),
        );
      });

      it('refuses an active token for another audience and one lacking the scope', async () => {
        expect((await get('opaque-foreign')).status).toBe(401);
        const narrow = await get('opaque-narrow', '/reports');
        expect(narrow.status).toBe(403);
        expect(narrow.headers['www-authenticate']).toContain('scope="reports:read"');
      });

      it('answers 503 temporarily_unavailable when the endpoint fails', async () => {
        failing = true;
        try {
          const res = await get('opaque-never-seen');
          expect(res.status).toBe(503);
          expect(res.body).toEqual({
            error: 'temporarily_unavailable',
            error_description: 'the service is temporarily unavailable',
          });
        } finally {
          failing = false;
        }
      });
    });

    it("against the reference server's introspection endpoint, authenticated with a client assertion", async () => {
      const app = await resourceApp({
        issuer: TEST_ISSUER,
        audience: server.config.accessTokenAudience,
        mode: 'introspection',
        introspection: {
          endpoint: `${server.url}/oauth/introspect`,
          // The reference server lets a client introspect its own tokens.
          clientId: 'reporter',
          clientAssertion: ({ clientId, issuer }) =>
            signAssertion(
              clientKey.privateKey,
              clientKey.alg,
              { clientId, aud: issuer },
              { kid: clientKey.kid },
            ),
        },
      });
      try {
        const token = await issue({ scope: 'reports:read' });
        const ok = await request(app.getHttpServer())
          .get('/reports')
          .set('Authorization', `Bearer ${token}`);
        expect(ok.status).toBe(200);
        expect(ok.body).toEqual({ reports: ['r-1'], client_id: 'reporter' });
        const forged = await request(app.getHttpServer())
          .get('/whoami')
          .set('Authorization', `Bearer ${tamper(token)}`);
        expect(forged.status).toBe(401);
        expect(forged.body.error_description).toBe('the access token is not active');
      } finally {
        await app.close();
      }
    });
  });

  describe("the reference server's protected API module (src/resource)", () => {
    let app: INestApplication;

    beforeAll(async () => {
      const keys = server.app.get(ServerKeyService);
      @Global()
      @Module({
        providers: [{ provide: ServerKeyService, useValue: keys }],
        exports: [ServerKeyService],
      })
      class ServerKeysFromReferenceServer {}
      const moduleRef = await Test.createTestingModule({
        imports: [ServerKeysFromReferenceServer, ResourceModule.forRoot(server.config)],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      // As in the reference server: a catch-all filter registered globally.
      app.useGlobalFilters(new OAuthEndpointExceptionFilter());
      await app.init();
    });
    afterAll(() => app?.close());

    const get = (path: string, token?: string) => {
      const req = request(app.getHttpServer()).get(path);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    };

    it('GET /api/whoami answers the client and scope of a token of this server', async () => {
      const res = await get('/api/whoami', await issue({ scope: 'reports:read other:read' }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        client_id: 'reporter',
        sub: 'reporter',
        scope: 'reports:read other:read',
      });
    });

    it('GET /api/reports needs reports:read: 403 with the RFC 6750 challenge otherwise', async () => {
      expect((await get('/api/reports', await issue({ scope: 'reports:read' }))).status).toBe(200);
      const narrow = await get('/api/reports', await issue({ scope: 'other:read' }));
      expect(narrow.status).toBe(403);
      expect(narrow.headers['www-authenticate']).toBe(
        challenge(
          TEST_ISSUER,
          'insufficient_scope',
          'the access token lacks a required scope',
          'reports:read',
        ),
      );
    });

    it('refuses tampered and wrong-audience tokens, and asks for a token when none is sent', async () => {
      const tampered = await get('/api/whoami', tamper(await issue()));
      expect(tampered.status).toBe(401);
      expect(tampered.headers['www-authenticate']).toBe(
        challenge(TEST_ISSUER, 'invalid_token', 'the access token signature is invalid'),
      );
      const foreign = await get('/api/whoami', await issue({ resource: OTHER_RESOURCE }));
      expect(foreign.status).toBe(401);
      expect(foreign.body.error_description).toBe(
        'the access token is not intended for this resource',
      );
      const none = await get('/api/whoami');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe(`Bearer realm="${TEST_ISSUER}"`);
    });
  });
});
