import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** One sample of a Prometheus text exposition, by metric name and exact label set. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).sort();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map((m) => [m[1]!, m[2]!] as [string, string])
      .sort();
    if (JSON.stringify(found) === JSON.stringify(wanted)) return Number(match[3]);
  }
  return 0;
}

describe('Prometheus metrics at /metrics', () => {
  let server: TestServer;
  let key: TestKeyPair;
  let remoteKey: TestKeyPair;
  let jwksServer: Server;
  let jwksUrl: string;
  let basicSecret: string;

  beforeAll(async () => {
    remoteKey = await generateTestKey('ES256');
    jwksServer = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [remoteKey.publicJwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;
    server = await startTestServer('sqlite', {
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
      METRICS_TOKEN,
    });
    key = await generateTestKey('ES256');
    await server.registry.createClient({
      clientId: 'metered',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
      grantTypes: ['client_credentials'],
    });
    await server.registry.createClient({
      clientId: 'metered-remote',
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: jwksUrl,
      grantTypes: ['client_credentials'],
    });
    const basic = await server.registry.createClient({
      clientId: 'metered-basic',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
    });
    basicSecret = basic.clientSecret!;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  const token = (form: Record<string, string>, authorization?: string) => {
    const req = request(server.url).post('/oauth/token').type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const scrape = async () => {
    const res = await request(server.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.text;
  };
  const sign = (k: TestKeyPair, clientId: string, jti?: string) =>
    signAssertion(
      k.privateKey,
      k.alg,
      { clientId, aud: TEST_ISSUER, ...(jti && { jti }) },
      { kid: k.kid },
    );

  it('requires the metrics bearer token when METRICS_TOKEN is set', async () => {
    const none = await request(server.url).get('/metrics');
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_token');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
    const wrong = await request(server.url).get('/metrics').set('Authorization', 'Bearer nope');
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('client_auth_');
    await scrape();
  });

  it('counts authentications by method, outcome and reason, replays and issued tokens', async () => {
    const before = await scrape();
    const ok = { method: 'private_key_jwt', outcome: 'success', reason: 'none' };
    const replayed = { method: 'private_key_jwt', outcome: 'failure', reason: 'jti_replayed' };
    const wrongSecret = {
      method: 'client_secret_basic',
      outcome: 'failure',
      reason: 'secret_invalid',
    };
    const first = await sign(key, 'metered', 'replay-me-0001');
    expect((await token(assertionForm(first))).status).toBe(200);
    expect((await token(assertionForm(await sign(key, 'metered')))).status).toBe(200);
    expect((await token(assertionForm(first))).status).toBe(401);
    const badBasic = await token(
      { grant_type: 'client_credentials' },
      basicAuthorization('metered-basic', 'not-the-secret'),
    );
    expect(badBasic.status).toBe(401);
    const goodBasic = await token(
      { grant_type: 'client_credentials' },
      basicAuthorization('metered-basic', basicSecret),
    );
    expect(goodBasic.status).toBe(200);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('client_auth_authentications_total', ok)).toBe(2);
    expect(delta('client_auth_authentications_total', replayed)).toBe(1);
    expect(delta('client_auth_authentications_total', wrongSecret)).toBe(1);
    expect(
      delta('client_auth_authentications_total', {
        method: 'client_secret_basic',
        outcome: 'success',
        reason: 'none',
      }),
    ).toBe(1);
    expect(delta('client_auth_replays_total', { method: 'private_key_jwt' })).toBe(1);
    expect(delta('client_auth_tokens_issued_total')).toBe(3);
    expect(
      delta('client_auth_authentication_duration_seconds_count', {
        method: 'private_key_jwt',
        outcome: 'success',
      }),
    ).toBe(2);
    // Request latency by route pattern and status.
    expect(
      delta('client_auth_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/oauth/token',
        status_code: '200',
      }),
    ).toBe(3);
    expect(
      delta('client_auth_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/oauth/token',
        status_code: '401',
      }),
    ).toBe(2);

    // Nothing secret and no client id in any label or value.
    expect(after).not.toContain(basicSecret);
    expect(after).not.toContain('not-the-secret');
    expect(after).not.toContain(first);
    expect(after).not.toContain('metered');
  });

  it('counts an unknown client by its reason code, under the method it tried', async () => {
    const before = await scrape();
    const res = await token(assertionForm(await sign(key, 'nobody-registered-this')));
    expect(res.status).toBe(401);
    const after = await scrape();
    const labels = { method: 'private_key_jwt', outcome: 'failure', reason: 'client_unknown' };
    expect(
      sample(after, 'client_auth_authentications_total', labels) -
        sample(before, 'client_auth_authentications_total', labels),
    ).toBe(1);
    expect(after).not.toContain('nobody-registered-this');
  });

  it('exposes JWKS fetches and cache hits of jwks_uri clients', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) {
      expect((await token(assertionForm(await sign(remoteKey, 'metered-remote')))).status).toBe(
        200,
      );
    }
    const after = await scrape();
    const delta = (name: string) => sample(after, name) - sample(before, name);
    expect(delta('client_auth_jwks_fetches_total')).toBe(1);
    expect(delta('client_auth_jwks_cache_misses_total')).toBe(1);
    expect(delta('client_auth_jwks_cache_hits_total')).toBe(2);
    expect(delta('client_auth_jwks_fetch_failures_total')).toBe(0);
    expect(sample(after, 'client_auth_jwks_cache_entries')).toBeGreaterThanOrEqual(1);
  });

  it('labels unmatched paths as one route and includes process metrics', async () => {
    const before = await scrape();
    await request(server.url).get('/no/such/path/1');
    await request(server.url).get('/no/such/path/2');
    const after = await scrape();
    const labels = { method: 'GET', route: 'unmatched', status_code: '404' };
    expect(
      sample(after, 'client_auth_http_request_duration_seconds_count', labels) -
        sample(before, 'client_auth_http_request_duration_seconds_count', labels),
    ).toBe(2);
    expect(after).not.toContain('/no/such/path');
    expect(after).toContain('process_cpu_user_seconds_total');
  });
});
