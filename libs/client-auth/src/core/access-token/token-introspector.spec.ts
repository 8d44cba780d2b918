import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../../../../test/utils/loopback-http.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import {
  IntrospectionError,
  TokenIntrospector,
  type TokenIntrospectionOptions,
} from './token-introspector.js';

const ISSUER = 'https://as.example.com';
const NOW_MS = 1_900_000_000_000;
const NOW_S = NOW_MS / 1000;
const SECRET = 'rs secret with spaces & symbols';
const EXPECTED_BASIC = `Basic ${Buffer.from(
  `reports-api:${encodeURIComponent(SECRET).replace(/%20/g, '+')}`,
).toString('base64')}`;

describe('TokenIntrospector (RFC 7662, real HTTP)', () => {
  let server: LoopbackServer;
  let endpoint: string;
  /** Answers by token; unknown tokens are inactive. */
  let answers: Record<string, Record<string, unknown>>;
  let status: number;
  let clock: number;

  beforeAll(async () => {
    server = await startLoopbackServer((request, response) => {
      if (status !== 200) return sendJson(response, status, { error: 'invalid_client' });
      const token = request.form.get('token') ?? '';
      sendJson(response, 200, answers[token] ?? { active: false });
    });
    endpoint = `${server.url}/oauth/introspect`;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    status = 200;
    clock = NOW_MS;
    answers = {
      'opaque-1': {
        active: true,
        client_id: 'billing',
        scope: 'reports:read',
        aud: 'https://api.example.com',
        exp: NOW_S + 300,
      },
      'short-lived': { active: true, exp: NOW_S + 5 },
    };
  });

  function introspector(overrides: Partial<TokenIntrospectionOptions> = {}): TokenIntrospector {
    return new TokenIntrospector(
      {
        endpoint,
        clientId: 'reports-api',
        clientSecret: SECRET,
        now: () => clock,
        ...overrides,
      } as TokenIntrospectionOptions,
      ISSUER,
    );
  }

  it('POSTs token and token_type_hint with client_secret_basic (RFC 6749 §2.3.1)', async () => {
    const answer = await introspector().introspect('opaque-1');
    expect(answer).toMatchObject({ active: true, client_id: 'billing' });
    const [request] = server.requests;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers.authorization).toBe(EXPECTED_BASIC);
    expect(Object.fromEntries(request!.form)).toEqual({
      token: 'opaque-1',
      token_type_hint: 'access_token',
    });
  });

  it('authenticates with a client assertion from the callback, fresh for each request', async () => {
    const contexts: unknown[] = [];
    let n = 0;
    const client = introspector({
      clientSecret: undefined,
      clientAssertion: (context) => {
        contexts.push(context);
        return `assertion-${++n}`;
      },
      cacheTtlSeconds: 0,
    });
    await client.introspect('opaque-1');
    await client.introspect('opaque-1');
    expect(contexts).toEqual([
      { clientId: 'reports-api', issuer: ISSUER, endpoint },
      { clientId: 'reports-api', issuer: ISSUER, endpoint },
    ]);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
    expect(Object.fromEntries(server.requests[1]!.form)).toEqual({
      token: 'opaque-1',
      token_type_hint: 'access_token',
      client_id: 'reports-api',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'assertion-2',
    });
  });

  it('caches an active answer until the TTL', async () => {
    const client = introspector({ cacheTtlSeconds: 60 });
    await client.introspect('opaque-1');
    clock += 59_000;
    await client.introspect('opaque-1');
    expect(server.requests).toHaveLength(1);
    clock += 2_000;
    await client.introspect('opaque-1');
    expect(server.requests).toHaveLength(2);
    expect(client.stats()).toMatchObject({ requests: 2, hits: 1 });
  });

  it('never caches an active answer past the token exp', async () => {
    const client = introspector({ cacheTtlSeconds: 60 });
    await client.introspect('short-lived');
    clock += 4_000;
    await client.introspect('short-lived');
    expect(server.requests).toHaveLength(1);
    clock += 1_000;
    await client.introspect('short-lived');
    expect(server.requests).toHaveLength(2);
  });

  it('caches an inactive answer for a few seconds only', async () => {
    const client = introspector({ negativeCacheTtlSeconds: 3 });
    await client.introspect('revoked');
    clock += 2_900;
    expect(await client.introspect('revoked')).toEqual({ active: false });
    expect(server.requests).toHaveLength(1);
    clock += 200;
    await client.introspect('revoked');
    expect(server.requests).toHaveLength(2);
  });

  it('refuses a negative cache longer than 10 seconds', () => {
    expect(() => introspector({ negativeCacheTtlSeconds: 11 })).toThrow(
      ClientAuthConfigurationError,
    );
  });

  it('shares one request between concurrent callers for one token', async () => {
    const client = introspector();
    const answers = await Promise.all([
      client.introspect('opaque-1'),
      client.introspect('opaque-1'),
      client.introspect('opaque-1'),
    ]);
    expect(answers.every((a) => a.active)).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(client.stats().collapsed).toBe(2);
  });

  it('evicts the least recently used answer beyond the bound', async () => {
    answers['opaque-2'] = { active: true, exp: NOW_S + 300 };
    const client = introspector({ maxCacheEntries: 1 });
    await client.introspect('opaque-1');
    await client.introspect('opaque-2');
    await client.introspect('opaque-1');
    expect(server.requests).toHaveLength(3);
    expect(client.stats().entries).toBe(1);
  });

  it.each([
    ['a 401 (our own credentials refused)', 401],
    ['a 500', 500],
  ])('throws IntrospectionError on %s, and does not cache it', async (_case, code) => {
    status = code;
    const client = introspector();
    await expect(client.introspect('opaque-1')).rejects.toMatchObject({
      name: 'IntrospectionError',
      status: code,
    });
    status = 200;
    await expect(client.introspect('opaque-1')).resolves.toMatchObject({ active: true });
    expect(server.requests).toHaveLength(2);
  });

  it('throws IntrospectionError for an answer without a boolean active', async () => {
    answers['odd'] = { active: 'yes' };
    await expect(introspector().introspect('odd')).rejects.toBeInstanceOf(IntrospectionError);
  });

  it('throws IntrospectionError when the endpoint is unreachable', async () => {
    const client = introspector({ endpoint: 'http://127.0.0.1:9/introspect', timeoutMs: 2000 });
    await expect(client.introspect('opaque-1')).rejects.toBeInstanceOf(IntrospectionError);
  });

  it.each([
    ['both a secret and an assertion', { clientAssertion: () => 'x' }],
    ['neither a secret nor an assertion', { clientSecret: undefined }],
    ['a plain-http endpoint on a public host', { endpoint: 'http://as.example.com/introspect' }],
    ['no client id', { clientId: '' }],
  ])('refuses %s at construction', (_case, overrides) => {
    expect(() => introspector(overrides as Partial<TokenIntrospectionOptions>)).toThrow(
      ClientAuthConfigurationError,
    );
  });
});
