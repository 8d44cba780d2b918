import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../../../../test/utils/loopback-http.js';
import { TokenClient } from '../token-client/token-client.js';
import { createAuthorizedFetch } from './authorized-fetch.js';

describe('createAuthorizedFetch', () => {
  let authServer: LoopbackServer;
  let api: LoopbackServer;
  /** Tokens the API accepts right now. */
  let accepted: Set<string>;
  let issued: number;
  let client: TokenClient;

  beforeAll(async () => {
    authServer = await startLoopbackServer((req, res) => {
      const token = `at-${++issued}`;
      sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
    });
    api = await startLoopbackServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !accepted.has(token)) {
        return sendJson(
          res,
          401,
          { error: 'invalid_token' },
          { 'www-authenticate': 'Bearer error="invalid_token"' },
        );
      }
      sendJson(res, 200, { ok: true, token, body: req.body, method: req.method });
    });
  });
  afterAll(async () => {
    await authServer.close();
    await api.close();
  });
  beforeEach(() => {
    authServer.requests.length = 0;
    api.requests.length = 0;
    issued = 0;
    accepted = new Set(['at-1', 'at-2', 'at-3']);
    client = new TokenClient({
      clientId: 'svc',
      issuer: authServer.url,
      tokenEndpoint: `${authServer.url}/token`,
      clientSecret: 'secret',
      retry: false,
    });
  });

  it('attaches the bearer token and reuses the cached one', async () => {
    const apiFetch = createAuthorizedFetch(client);
    const first = await apiFetch(`${api.url}/a`);
    const second = await apiFetch(new URL(`${api.url}/b`), {
      headers: { authorization: 'Basic x' },
    });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(api.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer at-1',
      'Bearer at-1',
    ]);
    expect(authServer.requests).toHaveLength(1);
  });

  it('on 401: drops the token, gets a new one and resends the request once, body included', async () => {
    const apiFetch = createAuthorizedFetch(client);
    await apiFetch(`${api.url}/warm`);
    accepted.delete('at-1'); // e.g. revoked, or the API rotated its trusted keys
    const response = await apiFetch(`${api.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 7 }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      token: 'at-2',
      body: '{"id":7}',
      method: 'POST',
    });
    expect(api.requests.slice(1).map((r) => [r.headers.authorization, r.body])).toEqual([
      ['Bearer at-1', '{"id":7}'],
      ['Bearer at-2', '{"id":7}'],
    ]);
    expect(authServer.requests).toHaveLength(2);
  });

  it('retries a Request object with its body', async () => {
    accepted = new Set(['at-2']);
    const apiFetch = createAuthorizedFetch(client);
    const response = await apiFetch(
      new Request(`${api.url}/r`, { method: 'PUT', body: 'payload' }),
    );
    expect(await response.json()).toMatchObject({ token: 'at-2', body: 'payload', method: 'PUT' });
  });

  it('returns the second 401 without a third attempt', async () => {
    accepted = new Set();
    const response = await createAuthorizedFetch(client)(`${api.url}/x`);
    expect(response.status).toBe(401);
    expect(api.requests).toHaveLength(2);
    expect(authServer.requests).toHaveLength(2);
  });

  it('does not retry when retryOnUnauthorized is false', async () => {
    accepted = new Set();
    const response = await createAuthorizedFetch(client, { retryOnUnauthorized: false })(
      `${api.url}/x`,
    );
    expect(response.status).toBe(401);
    expect(api.requests).toHaveLength(1);
  });

  it('many requests refused together fetch one new token', async () => {
    const apiFetch = createAuthorizedFetch(client);
    await apiFetch(`${api.url}/warm`);
    accepted.delete('at-1');
    const responses = await Promise.all(Array.from({ length: 10 }, () => apiFetch(`${api.url}/y`)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(authServer.requests).toHaveLength(2);
  });

  it('asks for the configured scope', async () => {
    await createAuthorizedFetch(client, { token: { scope: 'orders:write' } })(`${api.url}/z`);
    expect(authServer.requests[0]!.form.get('scope')).toBe('orders:write');
  });
});
