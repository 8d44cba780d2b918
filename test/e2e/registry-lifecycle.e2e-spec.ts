import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { TypeOrmClientStore } from 'nestjs-client-auth';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import {
  startTestServer,
  TEST_DATABASES,
  TEST_ISSUER,
  type TestServer,
} from '../utils/test-server.js';

const INITIAL_ACCESS_TOKEN = 'iat-static-0123456789abcdefghijklmnopqrstuvwxyz';
const ADMIN_TOKEN = 'admin-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG';

/**
 * SPEC S3 end to end over HTTP: RFC 7591 registration, RFC 7592 management and the admin API,
 * each change honoured by client authentication on the very next request.
 */
describe.each(TEST_DATABASES)('client registry over HTTP on %s', (kind) => {
  let server: TestServer;
  let keyA: TestKeyPair;
  let keyB: TestKeyPair;

  beforeAll(async () => {
    server = await startTestServer(kind, {
      INITIAL_ACCESS_TOKEN,
      ADMIN_TOKEN,
    });
    keyA = await generateTestKey('ES256', 'key-a');
    keyB = await generateTestKey('ES256', 'key-b');
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const http = () => request(server.url);
  const admin = (req: request.Test) => req.set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  const tokenWith = async (key: TestKeyPair, clientId: string) =>
    http()
      .post('/oauth/token')
      .type('form')
      .send(
        assertionForm(
          await signAssertion(
            key.privateKey,
            key.alg,
            { clientId, aud: TEST_ISSUER },
            { kid: key.kid },
          ),
        ),
      );
  const counts = async () => {
    const dataSource = server.app.get<DataSource>(getDataSourceToken());
    const [clients, credentials] = await Promise.all([
      dataSource.query('SELECT COUNT(*) AS n FROM oauth_client'),
      dataSource.query('SELECT COUNT(*) AS n FROM oauth_client_credential'),
    ]);
    return [Number(clients[0].n), Number(credentials[0].n)];
  };

  it('discovery advertises the registration endpoint', async () => {
    const res = await http().get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body.registration_endpoint).toBe(`${TEST_ISSUER}/oauth/register`);
  });

  it('full lifecycle: register → authenticate → read → update → rotate key → disable → delete', async () => {
    // Register (RFC 7591 §3.1) with the static initial access token.
    const registered = await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [keyA.publicJwk] },
        grant_types: ['client_credentials'],
        client_name: 'Billing service',
        scope: 'read',
        unknown_member: 'dropped',
      })
      .expect(201);
    expect(registered.headers['cache-control']).toBe('no-store');
    const clientId: string = registered.body.client_id;
    expect(registered.body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      client_name: 'Billing service',
      registration_client_uri: `${TEST_ISSUER}/oauth/register/${clientId}`,
    });
    expect(registered.body.client_secret).toBeUndefined();
    expect(registered.body.unknown_member).toBeUndefined();
    expect(typeof registered.body.client_id_issued_at).toBe('number');
    const rat1: string = registered.body.registration_access_token;
    expect(rat1.length).toBeGreaterThanOrEqual(43);

    // Authenticate with the registered key.
    const token = await tokenWith(keyA, clientId);
    expect(token.status).toBe(200);
    expect(token.body.access_token).toEqual(expect.any(String));

    // Read (RFC 7592 §2.1).
    const read = await http()
      .get(`/oauth/register/${clientId}`)
      .set('Authorization', `Bearer ${rat1}`)
      .expect(200);
    expect(read.body).toMatchObject({ client_id: clientId, client_name: 'Billing service' });
    expect(read.body.registration_access_token).toBeUndefined();

    // Update (RFC 7592 §2.2): the token rotates; the old one stops working.
    const updated = await http()
      .put(`/oauth/register/${clientId}`)
      .set('Authorization', `Bearer ${rat1}`)
      .send({
        client_id: clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [keyA.publicJwk] },
        client_name: 'Billing service v2',
        scope: 'read write',
      })
      .expect(200);
    const rat2: string = updated.body.registration_access_token;
    expect(rat2).not.toBe(rat1);
    expect(updated.body).toMatchObject({ client_name: 'Billing service v2', scope: 'read write' });
    await http()
      .get(`/oauth/register/${clientId}`)
      .set('Authorization', `Bearer ${rat1}`)
      .expect(401);
    expect((await tokenWith(keyA, clientId)).status).toBe(200);

    // Rotate the key through the admin API with no overlap: old refused, new accepted.
    const rotated = await admin(http().post(`/admin/clients/${clientId}/credentials/rotate`))
      .send({ jwk: keyB.publicJwk, overlap_seconds: 0 })
      .expect(201);
    expect(rotated.body).toMatchObject({ kid: 'key-b', status: 'active' });
    const refused = await tokenWith(keyA, clientId);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect((await tokenWith(keyB, clientId)).status).toBe(200);

    const view = await admin(http().get(`/admin/clients/${clientId}`)).expect(200);
    const states = Object.fromEntries(
      view.body.credentials.map((c: { kid: string; status: string }) => [c.kid, c.status]),
    );
    expect(states).toEqual({ 'key-a': 'expired', 'key-b': 'active' });

    // Disable → refused; enable → accepted again.
    await admin(http().post(`/admin/clients/${clientId}/disable`)).expect(200);
    expect((await tokenWith(keyB, clientId)).status).toBe(401);
    await admin(http().post(`/admin/clients/${clientId}/enable`)).expect(200);
    expect((await tokenWith(keyB, clientId)).status).toBe(200);

    // Delete (RFC 7592 §2.3) → refused, and the registration token no longer works.
    await http()
      .delete(`/oauth/register/${clientId}`)
      .set('Authorization', `Bearer ${rat2}`)
      .expect(204);
    expect((await tokenWith(keyB, clientId)).status).toBe(401);
    await http()
      .get(`/oauth/register/${clientId}`)
      .set('Authorization', `Bearer ${rat2}`)
      .expect(401);

    // Every change is in the audit trail, with its actor, and no secret in any of it.
    const audit = await admin(
      http().get('/admin/audit-events').query({ client_id: clientId }),
    ).expect(200);
    const actions = audit.body.map((event: { action: string }) => event.action).reverse();
    expect(actions).toEqual([
      'client.created',
      'client.updated',
      'credential.rotated',
      'client.disabled',
      'client.enabled',
      'client.deleted',
    ]);
    expect(JSON.stringify(audit.body)).not.toContain(rat1);
    expect(JSON.stringify(audit.body)).not.toContain(rat2);
  });

  it('a secret client: the secret is returned once, never by reads, and rotation with overlap works', async () => {
    const created = await admin(http().post('/admin/clients'))
      .send({ client_id: 'secret-client', token_endpoint_auth_method: 'client_secret_basic' })
      .expect(201);
    const secret1: string = created.body.client_secret;
    expect(Buffer.from(secret1, 'base64url').length).toBeGreaterThanOrEqual(32);
    const ok = (secret: string) =>
      http()
        .post('/oauth/token')
        .type('form')
        .set('Authorization', basicAuthorization('secret-client', secret))
        .send({ grant_type: 'client_credentials' });
    expect((await ok(secret1)).status).toBe(200);

    const rotated = await admin(http().post('/admin/clients/secret-client/secret/rotate'))
      .send({ overlap_seconds: 3600 })
      .expect(200);
    const secret2: string = rotated.body.client_secret;
    expect(secret2).not.toBe(secret1);
    expect((await ok(secret1)).status).toBe(200);
    expect((await ok(secret2)).status).toBe(200);

    const reads = await Promise.all([
      admin(http().get('/admin/clients/secret-client')),
      admin(http().get('/admin/clients')),
      admin(http().get('/admin/audit-events')),
    ]);
    for (const res of reads) {
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(secret1);
      expect(text).not.toContain(secret2);
      expect(text).not.toMatch(/sha256:|"secret_digest":|ciphertext|"secret":/);
    }
  });

  it('registration: missing, wrong, expired and used-up initial access tokens → 401, nothing stored', async () => {
    const body = {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [keyA.publicJwk] },
    };
    const before = await counts();
    const missing = await http().post('/oauth/register').send(body).expect(401);
    expect(missing.body.error).toBe('invalid_token');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer /);
    await http()
      .post('/oauth/register')
      .set('Authorization', 'Bearer wrong-token')
      .send(body)
      .expect(401);

    // An issued token with one use: the first registration succeeds, the second is refused.
    const issued = await admin(http().post('/admin/initial-access-tokens'))
      .send({ max_uses: 1, expires_in: 3600, description: 'one-shot' })
      .expect(201);
    const oneShot: string = issued.body.initial_access_token;
    await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${oneShot}`)
      .send({ ...body, jwks: { keys: [keyB.publicJwk] } })
      .expect(201);
    const afterFirst = await counts();
    await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${oneShot}`)
      .send(body)
      .expect(401);

    // A revoked token is refused.
    const second = await admin(http().post('/admin/initial-access-tokens')).send({}).expect(201);
    await admin(http().delete(`/admin/initial-access-tokens/${second.body.id}`)).expect(200);
    await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${second.body.initial_access_token}`)
      .send(body)
      .expect(401);
    expect(await counts()).toEqual(afterFirst);
    expect(afterFirst[0]).toBe(before[0] + 1);

    const listed = await admin(http().get('/admin/initial-access-tokens')).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(oneShot);
    const statuses = listed.body.map((t: { status: string }) => t.status).sort();
    expect(statuses).toEqual(['revoked', 'used_up']);
  });

  it('RFC 7592 with a wrong registration access token → 401 for any client, existing or not', async () => {
    const registered = await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ token_endpoint_auth_method: 'client_secret_post' })
      .expect(201);
    const id = registered.body.client_id as string;
    for (const path of [`/oauth/register/${id}`, '/oauth/register/no-such-client']) {
      const res = await http().get(path).set('Authorization', 'Bearer not-the-token').expect(401);
      expect(res.body).toEqual({
        error: 'invalid_token',
        error_description: 'the registration access token is not valid',
      });
      await http()
        .put(path)
        .set('Authorization', 'Bearer not-the-token')
        .send({ client_id: id })
        .expect(401);
      await http().delete(path).set('Authorization', 'Bearer not-the-token').expect(401);
      await http().get(path).expect(401);
    }
    // Another client's token does not open this one.
    const other = await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ token_endpoint_auth_method: 'client_secret_post' })
      .expect(201);
    await http()
      .get(`/oauth/register/${id}`)
      .set('Authorization', `Bearer ${other.body.registration_access_token}`)
      .expect(401);
    await http()
      .get(`/oauth/register/${id}`)
      .set('Authorization', `Bearer ${registered.body.registration_access_token}`)
      .expect(200);
  });

  it('RFC 7592 update: switching the method clears the old credentials and issues a secret', async () => {
    const registered = await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keyA.publicJwk] } })
      .expect(201);
    const id = registered.body.client_id as string;
    expect((await tokenWith(keyA, id)).status).toBe(200);
    const switched = await http()
      .put(`/oauth/register/${id}`)
      .set('Authorization', `Bearer ${registered.body.registration_access_token}`)
      .send({ client_id: id, token_endpoint_auth_method: 'client_secret_basic' })
      .expect(200);
    expect(switched.body.client_secret).toEqual(expect.any(String));
    expect(switched.body.jwks).toBeUndefined();
    expect((await tokenWith(keyA, id)).status).toBe(401);
    const basic = await http()
      .post('/oauth/token')
      .type('form')
      .set('Authorization', basicAuthorization(id, switched.body.client_secret))
      .send({ grant_type: 'client_credentials' });
    expect(basic.status).toBe(200);
    const view = await admin(http().get(`/admin/clients/${id}`)).expect(200);
    expect(view.body.credentials.map((c: { kind: string }) => c.kind)).toEqual(['secret_digest']);
  });

  it('RFC 7592 update refuses server-managed members and a mismatched client_id', async () => {
    const registered = await http()
      .post('/oauth/register')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ token_endpoint_auth_method: 'client_secret_basic', client_name: 'before' })
      .expect(201);
    const id = registered.body.client_id as string;
    const token = registered.body.registration_access_token as string;
    for (const extra of [
      { registration_access_token: token },
      { client_id_issued_at: 1 },
      { client_id: 'someone-else' },
      { client_secret: 'not-the-secret' },
    ]) {
      const res = await http()
        .put(`/oauth/register/${id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({
          client_id: id,
          token_endpoint_auth_method: 'client_secret_basic',
          ...extra,
          client_name: 'after',
        });
      expect(res.status).toBe(400);
      expect(res.body.error_description).toMatch(
        /^(registration_access_token|client_id_issued_at|client_id|client_secret): /,
      );
    }
    const read = await http()
      .get(`/oauth/register/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(read.body.client_name).toBe('before');
  });

  it('admin endpoints without the admin token → 401; with a wrong one → 401', async () => {
    const routes: [string, string][] = [
      ['get', '/admin/clients'],
      ['post', '/admin/clients'],
      ['get', '/admin/clients/x'],
      ['put', '/admin/clients/x'],
      ['delete', '/admin/clients/x'],
      ['post', '/admin/clients/x/disable'],
      ['post', '/admin/clients/x/secret/rotate'],
      ['post', '/admin/clients/x/credentials'],
      ['get', '/admin/audit-events'],
      ['get', '/admin/failures'],
      ['get', '/admin/readiness'],
      ['post', '/admin/initial-access-tokens'],
      ['get', '/admin/initial-access-tokens'],
    ];
    for (const [method, path] of routes) {
      const anonymous = await (http() as unknown as Record<string, (p: string) => request.Test>)[
        method
      ]!(path).send({});
      expect([path, anonymous.status, anonymous.body.error]).toEqual([path, 401, 'invalid_token']);
      const wrong = await (http() as unknown as Record<string, (p: string) => request.Test>)[
        method
      ]!(path)
        .set('Authorization', 'Bearer not-the-admin-token')
        .send({});
      expect([path, wrong.status]).toEqual([path, 401]);
    }
  });

  it('admin list: pagination and filters', async () => {
    for (let i = 0; i < 3; i++) {
      await admin(http().post('/admin/clients'))
        .send({
          client_id: `paged-${i}`,
          client_name: `Paged 100%_${i}`,
          token_endpoint_auth_method: i === 2 ? 'client_secret_post' : 'client_secret_basic',
          enabled: i !== 1,
        })
        .expect(201);
    }
    const page = await admin(
      http().get('/admin/clients').query({ name: 'paged', limit: 2 }),
    ).expect(200);
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(page.body.items).toHaveLength(2);
    const rest = await admin(
      http().get('/admin/clients').query({ name: 'paged', limit: 2, offset: 2 }),
    ).expect(200);
    expect(rest.body.items).toHaveLength(1);
    const disabled = await admin(
      http().get('/admin/clients').query({ name: 'paged', status: 'disabled' }),
    ).expect(200);
    expect(disabled.body.items.map((c: { client_id: string }) => c.client_id)).toEqual(['paged-1']);
    const post = await admin(
      http().get('/admin/clients').query({ name: 'PAGED 100%_', method: 'client_secret_post' }),
    ).expect(200);
    expect(post.body.items.map((c: { client_id: string }) => c.client_id)).toEqual(['paged-2']);
    const bad = await admin(http().get('/admin/clients').query({ limit: 1000 })).expect(400);
    expect(bad.body.error).toBe('invalid_request');
    expect(bad.body.error_description).toMatch(/^limit: /);
  });

  it('failures and readiness: a bad assertion shows up with its reason code and request id', async () => {
    await admin(http().post('/admin/clients'))
      .send({
        client_id: 'diag',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [keyA.publicJwk] },
      })
      .expect(201);
    // Token endpoint URL as audience: accepted under compat, recorded as not strict-ready.
    const good = await http()
      .post('/oauth/token')
      .type('form')
      .send(
        assertionForm(
          await signAssertion(
            keyA.privateKey,
            'ES256',
            { clientId: 'diag', aud: `${TEST_ISSUER}/oauth/token` },
            { kid: keyA.kid },
          ),
        ),
      );
    expect(good.status).toBe(200);
    const bad = await http()
      .post('/oauth/token')
      .type('form')
      .send(
        assertionForm(
          await signAssertion(
            keyA.privateKey,
            'ES256',
            { clientId: 'diag', aud: 'https://elsewhere.test' },
            { kid: keyA.kid },
          ),
        ),
      );
    expect(bad.status).toBe(401);
    const requestId = bad.headers['x-request-id'];
    expect(requestId).toEqual(expect.any(String));

    // Bookkeeping is written behind the hot path (coalesced); flush it as shutdown would.
    await server.app.get(TypeOrmClientStore).flush();
    const failures = (await admin(http().get('/admin/clients/diag/failures')).expect(200)).body;
    const readiness = (await admin(http().get('/admin/clients/diag/readiness')).expect(200)).body;
    expect(failures[0]).toMatchObject({ reason: 'aud_not_accepted', request_id: requestId });
    expect(readiness).toMatchObject({ last_audience_form: 'token_endpoint', passes_strict: false });
  });
});
