import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ClientRegistryService, SecretCipher, TypeOrmClientStore } from 'nestjs-client-auth';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
  unsignedAssertion,
} from '../utils/assertions.js';
import {
  startTestServer,
  TEST_DATABASES,
  TEST_ISSUER,
  TEST_TOKEN_ENDPOINT,
  type TestServer,
} from '../utils/test-server.js';

const GENERIC = { error: 'invalid_client', error_description: 'client authentication failed' };

describe.each(TEST_DATABASES)('token endpoint on %s', (kind) => {
  let server: TestServer;
  let es256: TestKeyPair;
  let rs256: TestKeyPair;
  let jwksServer: Server;
  let jwksUrl: string;
  let servedKeys: unknown[] = [];
  let jwksRequests = 0;

  beforeAll(async () => {
    jwksServer = createServer((_req, res) => {
      jwksRequests++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: servedKeys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;
    server = await startTestServer(kind, { JWKS_URI_ALLOW_HOSTS: '127.0.0.1' });
    es256 = await generateTestKey('ES256');
    rs256 = await generateTestKey('RS256');
    await server.registry.createClient({
      clientId: 'pkj',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [es256.publicJwk, rs256.publicJwk] },
      scope: 'read write',
      grantTypes: ['client_credentials'],
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    jwksServer?.close();
  });

  const post = (form: Record<string, string>, authorization?: string) => {
    const req = request(server.url).post('/oauth/token').type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const assertion = (
    key: TestKeyPair,
    clientId = 'pkj',
    extra: Partial<Parameters<typeof signAssertion>[2]> = {},
  ) =>
    signAssertion(
      key.privateKey,
      key.alg,
      { clientId, aud: TEST_ISSUER, ...extra },
      { kid: key.kid },
    );

  it('issues an RFC 9068 access token to a private_key_jwt client (inline keys)', async () => {
    const res = await post(assertionForm(await assertion(es256), { scope: 'read' }));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'read' });
    const jwks = (await request(server.url).get('/oauth/jwks')).body;
    const { payload, protectedHeader } = await jwtVerify(
      res.body.access_token,
      createLocalJWKSet(jwks),
      {
        issuer: TEST_ISSUER,
        audience: TEST_ISSUER,
        typ: 'at+jwt',
      },
    );
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'pkj', client_id: 'pkj', scope: 'read' });
    expect(typeof payload.jti).toBe('string');
    const rsa = await post(assertionForm(await assertion(rs256)));
    expect(rsa.status).toBe(200);
  });

  it('refuses a scope the client did not register', async () => {
    const res = await post(assertionForm(await assertion(es256), { scope: 'admin' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('authenticates a jwks_uri client and follows key rotation', async () => {
    const first = await generateTestKey('ES256');
    servedKeys = [first.publicJwk];
    await server.registry.createClient({
      clientId: 'remote',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: jwksUrl,
      grantTypes: ['client_credentials'],
    });
    expect((await post(assertionForm(await assertion(first, 'remote')))).status).toBe(200);
    const second = await generateTestKey('ES256');
    servedKeys = [second.publicJwk];
    const before = jwksRequests;
    expect((await post(assertionForm(await assertion(second, 'remote')))).status).toBe(200);
    expect(jwksRequests).toBe(before + 1);
  });

  it('authenticates client_secret_jwt, client_secret_basic and client_secret_post clients', async () => {
    const jwt = await server.registry.createClient({
      clientId: 'hmac',
      tokenEndpointAuthMethod: 'client_secret_jwt',
      grantTypes: ['client_credentials'],
    });
    const secretKey = new TextEncoder().encode(jwt.clientSecret!);
    const hs = await signAssertion(secretKey, 'HS256', { clientId: 'hmac', aud: TEST_ISSUER });
    expect((await post(assertionForm(hs))).status).toBe(200);

    const basic = await server.registry.createClient({
      clientId: 'basic client',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
    });
    const ok = await post(
      { grant_type: 'client_credentials' },
      basicAuthorization('basic client', basic.clientSecret!),
    );
    expect(ok.status).toBe(200);
    const bad = await post(
      { grant_type: 'client_credentials' },
      basicAuthorization('basic client', 'wrong'),
    );
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toMatch(/^Basic /);
    expect(bad.body).toEqual(GENERIC);

    const postClient = await server.registry.createClient({
      clientId: 'post',
      tokenEndpointAuthMethod: 'client_secret_post',
      grantTypes: ['client_credentials'],
    });
    const viaPost = await post({
      grant_type: 'client_credentials',
      client_id: 'post',
      client_secret: postClient.clientSecret!,
    });
    expect(viaPost.status).toBe(200);
    // A post client may not use Basic (method mismatch).
    const mismatch = await post(
      { grant_type: 'client_credentials' },
      basicAuthorization('post', postClient.clientSecret!),
    );
    expect(mismatch.status).toBe(401);
  });

  it('refuses an Authorization header sent twice (SPEC S2.1) with invalid_request', async () => {
    const target = new URL('/oauth/token', server.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        target,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.setHeader('authorization', [
        basicAuthorization('pkj', 'one'),
        basicAuthorization('pkj', 'two'),
      ]);
      req.on('error', reject);
      req.end('grant_type=client_credentials');
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_request' });
  });

  describe('failures answer 4xx OAuth JSON and issue no token', () => {
    const expectRefused = (res: request.Response, status: number, error: string) => {
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(error);
      expect(typeof res.body.error_description).toBe('string');
      expect(res.body.access_token).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
    };

    it('algorithm confusion: HS256 keyed with the public key', async () => {
      const pem = JSON.stringify(rs256.publicJwk);
      const forged = await signAssertion(new TextEncoder().encode(pem), 'HS256', {
        clientId: 'pkj',
        aud: TEST_ISSUER,
      });
      expectRefused(await post(assertionForm(forged)), 401, 'invalid_client');
    });

    it('alg none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const none = unsignedAssertion({
        iss: 'pkj',
        sub: 'pkj',
        aud: TEST_ISSUER,
        exp: now + 60,
        jti: 'n1',
      });
      expectRefused(await post(assertionForm(none)), 401, 'invalid_client');
    });

    it('wrong audience, expired, lifetime too long (descriptions name the rule)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const wrongAud = await post(
        assertionForm(await assertion(es256, 'pkj', { aud: 'https://other.example' })),
      );
      expectRefused(wrongAud, 401, 'invalid_client');
      expect(wrongAud.body.error_description).not.toBe(GENERIC.error_description);
      expectRefused(
        await post(
          assertionForm(await assertion(es256, 'pkj', { iat: now - 600, exp: now - 120 })),
        ),
        401,
        'invalid_client',
      );
      expectRefused(
        await post(assertionForm(await assertion(es256, 'pkj', { exp: now + 3600 }))),
        401,
        'invalid_client',
      );
    });

    it('replayed jti, and a failed request does not burn its jti', async () => {
      const bad = await assertion(es256, 'pkj', { jti: 'burn-test', aud: 'https://wrong.example' });
      expectRefused(await post(assertionForm(bad)), 401, 'invalid_client');
      const good = await assertion(es256, 'pkj', { jti: 'burn-test' });
      expect((await post(assertionForm(good))).status).toBe(200);
      const replay = await post(assertionForm(good));
      expectRefused(replay, 401, 'invalid_client');
      expect(replay.body.error_description).toMatch(/jti/);
    });

    it('both a secret and an assertion; a parameter sent twice', async () => {
      const form = assertionForm(await assertion(es256), { client_secret: 'x' });
      expectRefused(await post(form), 400, 'invalid_request');
      const twice = await request(server.url)
        .post('/oauth/token')
        .type('form')
        .send('grant_type=client_credentials&client_id=a&client_id=b&client_secret=s');
      expectRefused(twice, 400, 'invalid_request');
    });

    it('unknown client, disabled client, method mismatch — generic before the signature', async () => {
      expect((await post(assertionForm(await assertion(es256, 'nobody')))).body).toEqual(GENERIC);
      const key = await generateTestKey('ES256');
      await server.registry.createClient({
        clientId: 'off',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
        grantTypes: ['client_credentials'],
      });
      await server.registry.setEnabled('off', false);
      expect((await post(assertionForm(await assertion(key, 'off')))).body).toEqual(GENERIC);
      // An assertion for a secret-based client.
      expect((await post(assertionForm(await assertion(key, 'post')))).body).toEqual(GENERIC);
    });

    it('a strict-audience client refuses the token endpoint URL', async () => {
      const key = await generateTestKey('ES256');
      await server.registry.createClient({
        clientId: 'strict',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [key.publicJwk] },
        audiencePolicy: 'strict',
        grantTypes: ['client_credentials'],
      });
      expectRefused(
        await post(assertionForm(await assertion(key, 'strict', { aud: TEST_TOKEN_ENDPOINT }))),
        401,
        'invalid_client',
      );
      expect((await post(assertionForm(await assertion(key, 'strict')))).status).toBe(200);
      // The compat client accepts the token endpoint URL.
      expect(
        (await post(assertionForm(await assertion(es256, 'pkj', { aud: TEST_TOKEN_ENDPOINT }))))
          .status,
      ).toBe(200);
    });

    it('an unsupported grant type and a JSON-less garbage body', async () => {
      expectRefused(
        await post(assertionForm(await assertion(es256), { grant_type: 'password' })),
        400,
        'unsupported_grant_type',
      );
      const garbage = await request(server.url)
        .post('/oauth/token')
        .set('Content-Type', 'application/json')
        .send('{not json');
      expect(garbage.status).toBe(400);
      expect(garbage.body.error).toBe('invalid_request');
    });
  });

  it('50 concurrent requests with one assertion yield exactly one token', async () => {
    const shared = await assertion(es256);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => post(assertionForm(shared))),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(49);
  });
});

describe('jwks_uri SSRF protection (not allow-listed)', () => {
  let server: TestServer;
  let target: Server;
  let hits = 0;
  beforeAll(async () => {
    target = createServer((_req, res) => {
      hits++;
      res.statusCode = 302;
      res.setHeader('Location', 'http://169.254.169.254/latest');
      res.end();
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    server = await startTestServer('sqlite');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    target?.close();
  });

  it.each([
    'https://127.0.0.1/jwks',
    'https://10.0.0.1/jwks',
    'https://169.254.169.254/jwks',
    'https://[::ffff:127.0.0.1]/jwks',
    'https://metadata.google.internal/jwks',
  ])('refuses %s with invalid_client and fetches nothing', async (uri) => {
    const clientId = `ssrf-${Buffer.from(uri).toString('hex')}`;
    // Stored past registration's admission (as a row written before a policy change would be):
    // the fetch itself must still refuse the address.
    const unchecked = new ClientRegistryService(
      server.app.get<DataSource>(getDataSourceToken()),
      server.app.get(SecretCipher),
      server.app.get(TypeOrmClientStore),
    );
    await unchecked.createClient({
      clientId,
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: uri,
      grantTypes: ['client_credentials'],
    });
    const key = await generateTestKey('ES256');
    const res = await request(server.url)
      .post('/oauth/token')
      .type('form')
      .send(
        assertionForm(
          await signAssertion(
            key.privateKey,
            'ES256',
            { clientId, aud: TEST_ISSUER },
            { kid: key.kid },
          ),
        ),
      );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(hits).toBe(0);
  });
});
