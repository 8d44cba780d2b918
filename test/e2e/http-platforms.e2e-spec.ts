/**
 * The library on both Nest HTTP adapters: the same app module, built once on
 * `@nestjs/platform-express` and once on `@nestjs/platform-fastify`, must answer identically —
 * client authentication (SPEC S2), OAuth error bodies and headers (RFC 6749 §5.2), the request id,
 * the resource server's RFC 6750 challenges (SPEC S8), HTTP metrics and rate limits (SPEC S10).
 * Every assertion here would fail if the library called an Express-only API (`res.json`,
 * `res.setHeader`, `req.res`, `req.route`) on a Fastify reply or request.
 */
import { request as httpRequest } from 'node:http';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  type INestApplication,
  Module,
  Param,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import request from 'supertest';
import {
  AccessTokenClaims,
  AccessTokenGuard,
  AuthenticatedClient,
  type AuthenticatedClientInfo,
  ClientAuthGuard,
  ClientAuthMetrics,
  ClientAuthMetricsModule,
  ClientAuthModule,
  ClientAuthRateLimiter,
  ClientAuthRateLimitModule,
  digestSecret,
  FormBodyGuard,
  type HttpReplyLike,
  type HttpRequestLike,
  OAuthEndpointExceptionFilter,
  type RegisteredClient,
  registerOAuthBodyParsers,
  RequiredScopes,
  ResourceServerModule,
} from 'nestjs-client-auth';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';

const ISSUER = 'https://as.example.test';
const API = 'https://api.example.test';
const REALM = 'reports';
const BASIC_SECRET = 'correct-horse-battery-staple-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const JSON_TYPE = /^application\/json(;|$)/;

/** Calls the limiter the way `ClientAuthRateLimitGuard` does on the registration endpoint. */
@Injectable()
class RegistrationRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: ClientAuthRateLimiter) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    this.limiter.beforeAuthentication(
      'registration',
      http.getRequest<HttpRequestLike>(),
      http.getResponse<HttpReplyLike>(),
    );
    return true;
  }
}

const clientView = (client: AuthenticatedClientInfo) => ({
  clientId: client.clientId,
  method: client.method,
});

@Controller()
class PlatformProbeController {
  constructor(private readonly metrics: ClientAuthMetrics) {}

  /** A token-endpoint-like route: form bodies only, then client authentication. */
  @Post('tenants/:tenant/token')
  @HttpCode(200)
  @UseGuards(FormBodyGuard, ClientAuthGuard)
  token(@Param('tenant') tenant: string, @AuthenticatedClient() client: AuthenticatedClientInfo) {
    return { tenant, ...clientView(client) };
  }

  @Post('passport/token')
  @HttpCode(200)
  @UseGuards(FormBodyGuard, AuthGuard('oauth-client'))
  passportToken(@AuthenticatedClient() client: AuthenticatedClientInfo) {
    return clientView(client);
  }

  @Get('api/reports')
  @UseGuards(AccessTokenGuard)
  @RequiredScopes('reports:read')
  reports(@AccessTokenClaims('client_id') clientId: string) {
    return { reports: ['r-1'], client_id: clientId };
  }

  @Get('passport/reports')
  @UseGuards(AuthGuard('oauth-access-token'), AccessTokenGuard)
  passportReports(@AccessTokenClaims('client_id') clientId: string) {
    return { client_id: clientId };
  }

  @Post('limited')
  @HttpCode(200)
  @UseGuards(RegistrationRateLimitGuard)
  limited() {
    return { ok: true };
  }

  @Get('metrics')
  async scrape(@Res() res: HttpReplyLike): Promise<void> {
    const text = await this.metrics.metrics();
    res.header('Content-Type', this.metrics.contentType);
    res.send(text);
  }
}

function clientsFor(key: TestKeyPair): RegisteredClient[] {
  return [
    {
      clientId: 'svc',
      enabled: true,
      tokenEndpointAuthMethod: 'private_key_jwt',
      grantTypes: ['client_credentials'],
      metadata: { client_name: 'Service' },
      credentials: [
        { id: 'svc-key', kind: 'public_key', status: 'active', kid: key.kid, jwk: key.publicJwk },
      ],
    },
    {
      clientId: 'basic',
      enabled: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
      metadata: { client_name: 'Basic' },
      credentials: [
        {
          id: 'basic-secret',
          kind: 'secret_digest',
          status: 'active',
          secretDigest: digestSecret(BASIC_SECRET),
        },
      ],
    },
  ];
}

type Platform = 'express' | 'fastify';

/** The probe app on `platform`, body parsing and the global filter set up as a server would. */
async function startApp(
  platform: Platform,
  clientKey: TestKeyPair,
  issuerKey: TestKeyPair,
): Promise<INestApplication> {
  @Module({
    imports: [
      ClientAuthModule.forRoot({ issuer: ISSUER, clients: clientsFor(clientKey) }),
      ResourceServerModule.forRoot({
        issuer: ISSUER,
        audience: API,
        jwks: { keys: [issuerKey.publicJwk] },
        realm: REALM,
      }),
      ClientAuthMetricsModule.forRoot(),
      ClientAuthRateLimitModule.forRoot({ registration: { perAddress: 2 } }),
    ],
    controllers: [PlatformProbeController],
    providers: [RegistrationRateLimitGuard],
  })
  class PlatformProbeModule {}

  const moduleRef = await Test.createTestingModule({ imports: [PlatformProbeModule] }).compile();
  let app: INestApplication;
  if (platform === 'fastify') {
    const adapter = new FastifyAdapter();
    registerOAuthBodyParsers(adapter.getInstance(), { bodyLimit: 64 * 1024 });
    app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, {
      bodyParser: false,
      logger: false,
    });
  } else {
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), {
      bodyParser: false,
      logger: false,
    });
    express.useBodyParser('urlencoded', { extended: false, limit: '64kb', parameterLimit: 100 });
    express.useBodyParser('json', { limit: '64kb' });
    app = express;
  }
  app.useGlobalFilters(new OAuthEndpointExceptionFilter());
  await app.listen(0, '127.0.0.1');
  return app;
}

/** `client_auth_http_request_duration_seconds_count` samples as label sets with their counts. */
function httpDurationCounts(text: string): { labels: Record<string, string>; count: number }[] {
  const samples: { labels: Record<string, string>; count: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^client_auth_http_request_duration_seconds_count\{(.*)\} (\d+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of match[1]!.matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ labels, count: Number(match[2]) });
  }
  return samples;
}

/** A POST with exactly these headers (an array sends the header once per value). */
function rawPost(
  base: string,
  path: string,
  headers: Record<string, string | string[]>,
  body: string,
  method = 'POST',
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: { 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(['express', 'fastify'] as const)('the library on the %s adapter', (platform) => {
  let app: INestApplication;
  let base: string;
  let clientKey: TestKeyPair;
  let issuerKey: TestKeyPair;

  beforeAll(async () => {
    clientKey = await generateTestKey('ES256');
    issuerKey = await generateTestKey('ES256');
    app = await startApp(platform, clientKey, issuerKey);
    const { port } = app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app?.close());

  const assertion = () =>
    signAssertion(
      clientKey.privateKey,
      'ES256',
      { clientId: 'svc', aud: ISSUER },
      { kid: clientKey.kid },
    );

  const accessToken = (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: ISSUER,
      sub: 'svc',
      aud: API,
      client_id: 'svc',
      scope: 'reports:read',
      iat: now,
      exp: now + 120,
      jti: `at-${Math.random()}`,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: issuerKey.kid, typ: 'at+jwt' })
      .sign(issuerKey.privateKey);
  };

  const postForm = (path: string, form: Record<string, string>) =>
    request(base).post(path).type('form').send(form);

  /** The RFC 6749 §5.2 error shape: status, JSON body, no-store. */
  function expectOAuthError(res: request.Response, status: number, error: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(JSON_TYPE);
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
  }

  describe('client authentication (ClientAuthGuard, FormBodyGuard)', () => {
    it('private_key_jwt: returns the authenticated client, then refuses the replayed assertion', async () => {
      const jwt = await assertion();
      const ok = await postForm('/tenants/acme/token', assertionForm(jwt));
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(JSON_TYPE);
      expect(ok.body).toEqual({ tenant: 'acme', clientId: 'svc', method: 'private_key_jwt' });

      const replay = await postForm('/tenants/acme/token', assertionForm(jwt));
      expectOAuthError(replay, 401, 'invalid_client');
      // The client did not use Authorization: no challenge (RFC 6749 §5.2).
      expect(replay.headers['www-authenticate']).toBeUndefined();
    });

    it('works the same through the oauth-client Passport strategy', async () => {
      const jwt = await assertion();
      const ok = await postForm('/passport/token', assertionForm(jwt));
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ clientId: 'svc', method: 'private_key_jwt' });
      expectOAuthError(
        await postForm('/passport/token', assertionForm(jwt)),
        401,
        'invalid_client',
      );
    });

    it('client_secret_basic: accepts the secret, and answers a wrong one with 401 and a Basic challenge', async () => {
      const ok = await request(base)
        .post('/tenants/acme/token')
        .set('Authorization', basicAuthorization('basic', BASIC_SECRET))
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ tenant: 'acme', clientId: 'basic', method: 'client_secret_basic' });

      const wrong = await request(base)
        .post('/tenants/acme/token')
        .set('Authorization', basicAuthorization('basic', 'not-the-secret'))
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expectOAuthError(wrong, 401, 'invalid_client');
      expect(wrong.headers['www-authenticate']).toBe('Basic realm="oauth", charset="UTF-8"');
      expect(wrong.text).not.toContain('not-the-secret');
    });

    it('refuses a JSON body at the form route with 400 invalid_request, consuming nothing', async () => {
      const jwt = await assertion();
      const asJson = await request(base)
        .post('/tenants/acme/token')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(assertionForm(jwt)));
      expectOAuthError(asJson, 400, 'invalid_request');
      expect(asJson.body.error_description).toBe(
        'the request body must be application/x-www-form-urlencoded (RFC 6749 §3.2)',
      );
      expect(asJson.text).not.toContain(jwt);

      // The assertion's jti was not used: the same assertion as a form is accepted.
      const asForm = await postForm('/tenants/acme/token', assertionForm(jwt));
      expect(asForm.status).toBe(200);
      expect(asForm.body.clientId).toBe('svc');
    });

    it('refuses a repeated parameter (RFC 6749 §3.1) with 400 invalid_request', async () => {
      const jwt = await assertion();
      const body = `${new URLSearchParams(assertionForm(jwt)).toString()}&client_assertion=${jwt}`;
      const res = await request(base)
        .post('/tenants/acme/token')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(body);
      expectOAuthError(res, 400, 'invalid_request');
      expect(res.body.error_description).toBe('parameter client_assertion was sent more than once');
    });

    it('refuses an Authorization header sent twice (SPEC S2.1) with 400 invalid_request', async () => {
      const res = await rawPost(
        base,
        '/tenants/acme/token',
        {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: [
            basicAuthorization('basic', BASIC_SECRET),
            basicAuthorization('svc', 'other'),
          ],
        },
        'grant_type=client_credentials',
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toBe('the Authorization header was sent more than once');
    });

    it('answers a body over the limit with 413 invalid_request, not echoing it', async () => {
      const res = await postForm('/tenants/acme/token', {
        client_id: 'svc',
        client_secret: `s3cr3t-${'x'.repeat(70 * 1024)}`,
      });
      expectOAuthError(res, 413, 'invalid_request');
      expect(res.body.error_description).toBe('the request body is too large');
      expect(res.text).not.toContain('s3cr3t');
    });

    it('answers malformed JSON with 400 invalid_request and a fixed description', async () => {
      const res = await request(base)
        .post('/tenants/acme/token')
        .set('Content-Type', 'application/json')
        .send('{"client_secret":"s3cr3t-do-not-echo", ');
      expectOAuthError(res, 400, 'invalid_request');
      expect(res.body.error_description).toBe('the request body is not valid JSON');
      expect(res.text).not.toContain('s3cr3t');
    });
  });

  describe('X-Request-Id', () => {
    it('echoes a well-formed id on success and on a refusal', async () => {
      const ok = await postForm('/tenants/acme/token', assertionForm(await assertion())).set(
        'X-Request-Id',
        'req-ok.1_A',
      );
      expect(ok.status).toBe(200);
      expect(ok.headers['x-request-id']).toBe('req-ok.1_A');

      const refused = await request(base)
        .post('/tenants/acme/token')
        .set('X-Request-Id', 'req-refused-2')
        .set('Authorization', basicAuthorization('basic', 'wrong'))
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(refused.status).toBe(401);
      expect(refused.headers['x-request-id']).toBe('req-refused-2');
    });

    it.each([
      ['absent', undefined],
      ['malformed', 'bad id with spaces'],
      ['too long', 'x'.repeat(129)],
    ])('generates a UUID when the header is %s, on success and on errors', async (_name, sent) => {
      const withId = (req: request.Test) =>
        sent === undefined ? req : req.set('X-Request-Id', sent);
      const ok = await withId(
        request(base)
          .post('/tenants/acme/token')
          .type('form')
          .send(assertionForm(await assertion())),
      );
      expect(ok.status).toBe(200);
      const refused = await withId(
        request(base).post('/tenants/acme/token').type('form').send({ client_id: 'nobody' }),
      );
      expect(refused.status).toBe(401);
      const missingToken = await withId(request(base).get('/api/reports'));
      expect(missingToken.status).toBe(401);
      const notFound = await withId(request(base).get('/nowhere'));
      expect(notFound.status).toBe(404);

      const ids = [ok, refused, missingToken, notFound].map((res) => res.headers['x-request-id']);
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('resource server (AccessTokenGuard, RFC 6750)', () => {
    it('accepts a valid bearer token and yields its claims', async () => {
      const res = await request(base)
        .get('/api/reports')
        .set('Authorization', `Bearer ${await accessToken()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ reports: ['r-1'], client_id: 'svc' });
    });

    it('echoes the request id on success too', async () => {
      const res = await request(base)
        .get('/api/reports')
        .set('X-Request-Id', 'bearer-ok-1')
        .set('Authorization', `Bearer ${await accessToken()}`);
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe('bearer-ok-1');
    });

    it('refuses two Authorization headers, even when the first holds a valid token', async () => {
      const res = await rawPost(
        base,
        '/api/reports',
        { authorization: [`Bearer ${await accessToken()}`, 'Bearer second'] },
        '',
        'GET',
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it('answers a request without a token with 401, a bare challenge and an empty body (§3.1)', async () => {
      const res = await request(base).get('/api/reports').set('X-Request-Id', 'bearer-none-1');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${REALM}"`);
      expect(res.text).toBe('');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-request-id']).toBe('bearer-none-1');
    });

    it('answers an invalid token with 401 invalid_token JSON and the challenge', async () => {
      const token = await accessToken({ aud: 'https://elsewhere.example.test' });
      const res = await request(base).get('/api/reports').set('Authorization', `Bearer ${token}`);
      const description = 'the access token is not intended for this resource';
      expectOAuthError(res, 401, 'invalid_token');
      expect(res.body.error_description).toBe(description);
      expect(res.headers['www-authenticate']).toBe(
        `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
      );
      expect(res.text).not.toContain(token);
    });

    it('answers a token without the required scope with 403 insufficient_scope', async () => {
      const res = await request(base)
        .get('/api/reports')
        .set('Authorization', `Bearer ${await accessToken({ scope: 'other:read' })}`);
      expectOAuthError(res, 403, 'insufficient_scope');
      expect(res.headers['www-authenticate']).toMatch(
        new RegExp(`^Bearer realm="${REALM}", error="insufficient_scope", .*scope="reports:read"$`),
      );
    });

    it('works the same through the oauth-access-token Passport strategy', async () => {
      const ok = await request(base)
        .get('/passport/reports')
        .set('Authorization', `Bearer ${await accessToken()}`);
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ client_id: 'svc' });
      const none = await request(base).get('/passport/reports');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe(`Bearer realm="${REALM}"`);
      expect(none.text).toBe('');
    });
  });

  describe('errors outside any route', () => {
    it('answers an unknown path with 404 in the OAuth format', async () => {
      const res = await request(base).post('/nowhere/at/all').type('form').send({ a: '1' });
      expectOAuthError(res, 404, 'not_found');
    });
  });

  describe('rate limits (ClientAuthRateLimiter)', () => {
    it('answers over the limit with 429, Retry-After and the OAuth body', async () => {
      expect((await request(base).post('/limited')).status).toBe(200);
      expect((await request(base).post('/limited')).status).toBe(200);
      const refused = await request(base).post('/limited').set('X-Request-Id', 'limited-3');
      expectOAuthError(refused, 429, 'temporarily_unavailable');
      expect(refused.body.error_description).toMatch(
        /^too many requests; retry after \d+ seconds?$/,
      );
      const retryAfter = Number(refused.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.headers['x-request-id']).toBe('limited-3');
    });
  });

  describe('HTTP metrics (ClientAuthMetricsModule)', () => {
    it('labels requests by route pattern, never the raw URL, and 404s as unmatched', async () => {
      const jwt = await assertion();
      expect((await postForm('/tenants/metrics-tenant-42/token', assertionForm(jwt))).status).toBe(
        200,
      );
      expect((await postForm('/tenants/metrics-tenant-42/token', assertionForm(jwt))).status).toBe(
        401,
      );
      const bearer = `Bearer ${await accessToken()}`;
      expect((await request(base).get('/api/reports').set('Authorization', bearer)).status).toBe(
        200,
      );
      expect((await request(base).get('/metrics-nowhere-17')).status).toBe(404);
      const res = await request(base).get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toContain('client_auth_http_request_duration_seconds');
      expect(res.text).not.toContain('metrics-tenant-42');
      expect(res.text).not.toContain('metrics-nowhere-17');

      const samples = httpDurationCounts(res.text);
      const count = (labels: Record<string, string>) =>
        samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.count ??
        0;
      expect(
        count({ method: 'POST', route: '/tenants/:tenant/token', status_code: '200' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        count({ method: 'POST', route: '/tenants/:tenant/token', status_code: '401' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        count({ method: 'GET', route: 'unmatched', status_code: '404' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        count({ method: 'GET', route: '/api/reports', status_code: '200' }),
      ).toBeGreaterThanOrEqual(1);
      // Every label is a route pattern or `unmatched`.
      for (const sample of samples) {
        expect(sample.labels.route).toMatch(/^(unmatched|\/[\w/:-]*)$/);
      }
      // The authentication observer is wired on this adapter too.
      expect(res.text).toMatch(
        /client_auth_authentications_total\{[^}]*method="private_key_jwt"[^}]*outcome="success"[^}]*\} [1-9]/,
      );
    });
  });
});
