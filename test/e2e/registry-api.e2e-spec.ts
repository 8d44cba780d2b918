import { createServer, type Server } from 'node:http';
import {
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  Injectable,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Request } from 'express';
import request from 'supertest';
import {
  CLIENT_AUTH_ENTITIES,
  ClientRegistryApiModule,
  ClientRegistryModule,
  migrationsFor,
} from 'nestjs-client-auth';
import { generateTestKey, type TestKeyPair } from '../utils/assertions.js';
import { createTestDatabase, type CreatedTestDatabase } from '../utils/database.js';
import { startTestServer, TEST_DATABASES, type TestServer } from '../utils/test-server.js';

const INITIAL_ACCESS_TOKEN = 'iat-static-0123456789abcdefghijklmnopqrstuvwxyz';
const ADMIN_TOKEN = 'admin-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG';

describe.each(TEST_DATABASES)('registry API on %s: jwks_uri, concurrency, OpenAPI', (kind) => {
  let server: TestServer;
  let jwks: Server;
  let jwksBase: string;
  let key: TestKeyPair;
  const served: Record<string, { status: number; type: string; body: string }> = {};

  beforeAll(async () => {
    key = await generateTestKey('ES256', 'remote-1');
    jwks = createServer((req, res) => {
      const entry = served[req.url ?? ''] ?? { status: 404, type: 'application/json', body: '{}' };
      res.writeHead(entry.status, { 'Content-Type': entry.type });
      res.end(entry.body);
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksBase = `http://127.0.0.1:${(jwks.address() as { port: number }).port}`;
    server = await startTestServer(kind, {
      INITIAL_ACCESS_TOKEN,
      ADMIN_TOKEN,
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    jwks?.close();
  });

  const register = (body: Record<string, unknown>) =>
    request(server.url)
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send(body);
  const clientCount = async () => (await server.registry.listClients({ limit: 1 })).total;

  it('admits a jwks_uri whose keys are usable, fetching them once at registration', async () => {
    served['/good'] = {
      status: 200,
      type: 'application/json',
      body: JSON.stringify({ keys: [key.publicJwk] }),
    };
    const res = await register({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${jwksBase}/good`,
    }).expect(201);
    expect(res.body.jwks_uri).toBe(`${jwksBase}/good`);
    expect(res.body.jwks).toBeUndefined();
  });

  it.each([
    ['an empty key set', () => ({ status: 200, type: 'application/json', body: '{"keys":[]}' })],
    ['a 500', () => ({ status: 500, type: 'application/json', body: '{}' })],
    ['HTML', () => ({ status: 200, type: 'text/html', body: '<html></html>' })],
    [
      'a private key',
      () => ({
        status: 200,
        type: 'application/json',
        body: JSON.stringify({ keys: [{ ...key.publicJwk, d: 'AAAA' }] }),
      }),
    ],
  ])('refuses a jwks_uri serving %s, storing nothing', async (_name, response) => {
    const path = `/bad-${Object.keys(served).length}`;
    served[path] = response();
    const before = await clientCount();
    const res = await register({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${jwksBase}${path}`,
    }).expect(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.error_description).toMatch(/^jwks_uri: /);
    expect(await clientCount()).toBe(before);
  });

  it.each([
    ['plain http to a host not allow-listed', 'http://jwks.example.com/keys'],
    ['a loopback address', 'https://127.0.0.2/keys'],
    ['a private address', 'https://10.1.2.3/keys'],
    ['the metadata address', 'https://169.254.169.254/latest'],
    ['an IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/keys'],
    ['a decimal IPv4 form', 'https://2130706433/keys'],
    ['credentials in the URL', 'https://user:pw@jwks.example.com/keys'],
    ['a fragment', 'https://jwks.example.com/keys#x'],
  ])('refuses a jwks_uri with %s', async (_name, uri) => {
    const before = await clientCount();
    const res = await register({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: uri,
    }).expect(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.error_description).toMatch(/^jwks_uri: /);
    expect(await clientCount()).toBe(before);
  });

  it('two concurrent updates of one client leave a consistent record', async () => {
    const keyA = await generateTestKey('ES256', 'a');
    const keyB = await generateTestKey('ES256', 'b');
    const created = await request(server.url)
      .post('/admin/clients')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ client_id: 'contended', token_endpoint_auth_method: 'client_secret_basic' })
      .expect(201);
    expect(created.body.version).toBe(1);
    const update = (name: string, jwk: object) =>
      request(server.url)
        .put('/admin/clients/contended')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({
          client_name: name,
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [jwk] },
        });
    const results = await Promise.all([update('A', keyA.publicJwk), update('B', keyB.publicJwk)]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const final = await request(server.url)
      .get('/admin/clients/contended')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    expect(final.body.version).toBe(3);
    // The name and the key come from the same request: never A's name with B's key.
    const kids = final.body.credentials.map((c: { kid: string }) => c.kid);
    expect(kids).toEqual([final.body.client_name === 'A' ? 'a' : 'b']);
    expect(final.body.credentials.every((c: { kind: string }) => c.kind === 'public_key')).toBe(
      true,
    );
  });

  it('If-Match with a stale version is refused with 409 and changes nothing', async () => {
    await request(server.url)
      .post('/admin/clients')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ client_id: 'versioned', token_endpoint_auth_method: 'client_secret_post' })
      .expect(201);
    const res = await request(server.url)
      .put('/admin/clients/versioned')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .set('If-Match', '"7"')
      .send({ token_endpoint_auth_method: 'client_secret_post', client_name: 'stale' })
      .expect(409);
    expect(res.body.error).toBe('conflict');
    const read = await request(server.url)
      .get('/admin/clients/versioned')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    expect(read.body).toMatchObject({ version: 1 });
    expect(read.body.client_name).toBeUndefined();
  });

  it('refuses a signing algorithm no registered key can produce, and an already expired key', async () => {
    const ec = await generateTestKey('ES256', 'ec-only');
    const before = await clientCount();
    const res = await register({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [ec.publicJwk] },
    }).expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_client_metadata' });
    expect(res.body.error_description).toMatch(/^token_endpoint_auth_signing_alg: /);
    expect(await clientCount()).toBe(before);

    await request(server.url)
      .post('/admin/clients')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({
        client_id: 'keyed',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [ec.publicJwk] },
      })
      .expect(201);
    const other = await generateTestKey('ES256', 'late');
    const expired = await request(server.url)
      .post('/admin/clients/keyed/credentials')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ jwk: other.publicJwk, expires_at: '2020-01-01T00:00:00Z' })
      .expect(400);
    expect(expired.body.error_description).toMatch(/^expires_at: /);
  });

  it('unknown clients and credentials answer 404 in the OAuth error format', async () => {
    const res = await request(server.url)
      .post('/admin/clients/ghost/credentials/nope/revoke')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(404);
    expect(res.body.error).toBe('not_found');
    await request(server.url)
      .get('/admin/clients/ghost')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(404);
  });

  it('answers a malformed percent-escape in the path in the OAuth format', async () => {
    const res = await request(server.url)
      .get('/admin/clients/a%E0%A4%A')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .set('X-Request-Id', 'bad-url-1');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'the request URL is malformed',
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toBe('bad-url-1');
  });

  it('serves the longest client ids (255 characters, reserved ones percent-encoded) in paths', async () => {
    const id = `${'/?#%&+'.repeat(20)}${'x'.repeat(135)}`;
    expect(id).toHaveLength(255);
    await request(server.url)
      .post('/admin/clients')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ client_id: id, token_endpoint_auth_method: 'client_secret_basic' })
      .expect(201);
    const path = `/admin/clients/${encodeURIComponent(id)}`;
    expect(path.length).toBeGreaterThan(500);
    const read = await request(server.url)
      .get(path)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    expect(read.body.client_id).toBe(id);
    await request(server.url)
      .post(`${path}/disable`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    expect((await server.registry.getClient(id))?.enabled).toBe(false);
  });

  it.each(['/oauth/register', '/admin/clients', '/oauth/token'])(
    'a malformed JSON body at %s is refused without echoing any of it',
    async (path) => {
      const res = await request(server.url)
        .post(path)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .set('Content-Type', 'application/json')
        .send('{"client_secret":hunter2-secret-value}');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'the request body is not valid JSON',
      });
      expect(res.text).not.toContain('hunter2');
    },
  );

  it('serves OpenAPI at /docs, built from the DTOs', async () => {
    const doc = await request(server.url).get('/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/oauth/register',
        '/oauth/register/{clientId}',
        '/admin/clients',
        '/admin/clients/{clientId}/credentials/rotate',
        '/admin/initial-access-tokens',
        '/admin/audit-events',
      ]),
    );
    const metadata = doc.body.components.schemas.ClientMetadataDto;
    expect(Object.keys(metadata.properties)).toEqual(
      expect.arrayContaining(['token_endpoint_auth_method', 'jwks', 'jwks_uri', 'grant_types']),
    );
    const ui = await request(server.url).get('/docs').redirects(1);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

@Injectable()
class HeaderAdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { user?: unknown }>();
    if (req.headers['x-operator'] !== 'alice') return false;
    req.user = { sub: 'alice' };
    return true;
  }
}

describe('ClientRegistryApiModule composed by a host application', () => {
  let db: CreatedTestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: db.sqlitePath!,
          entities: CLIENT_AUTH_ENTITIES,
          migrations: migrationsFor('better-sqlite3'),
          migrationsRun: true,
        }),
        ClientRegistryModule.forRoot({ secretEncryptionKey: 'c'.repeat(64) }),
        ClientRegistryApiModule.forRoot({
          baseUrl: 'https://host.example.test/',
          registration: { openRegistration: true },
          admin: { guard: HeaderAdminGuard },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('open registration accepts a request without an initial access token', async () => {
    const key = await generateTestKey('EdDSA');
    const res = await request(app.getHttpServer())
      .post('/oauth/register')
      .send({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } })
      .expect(201);
    expect(res.body.registration_client_uri).toBe(
      `https://host.example.test/oauth/register/${res.body.client_id}`,
    );
  });

  it('the host guard replaces the admin token and names the operator in the audit trail', async () => {
    const http = request(app.getHttpServer());
    const denied = await http.get('/admin/clients').expect(403);
    expect(denied.body.error).toBe('insufficient_scope');
    await request(app.getHttpServer())
      .get('/admin/clients')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(403);
    await request(app.getHttpServer())
      .post('/admin/clients')
      .set('x-operator', 'alice')
      .send({ client_id: 'by-alice', token_endpoint_auth_method: 'client_secret_basic' })
      .expect(201);
    const audit = await request(app.getHttpServer())
      .get('/admin/audit-events')
      .set('x-operator', 'alice')
      .query({ client_id: 'by-alice' })
      .expect(200);
    expect(audit.body[0]).toMatchObject({ action: 'client.created', actor: 'admin:alice' });
  });

  it('refuses registering the none method by default', async () => {
    const res = await request(app.getHttpServer())
      .post('/oauth/register')
      .send({ token_endpoint_auth_method: 'none' })
      .expect(400);
    expect(res.body.error).toBe('invalid_client_metadata');
    expect(res.body.error_description).toMatch(/^token_endpoint_auth_method: /);
  });
});
