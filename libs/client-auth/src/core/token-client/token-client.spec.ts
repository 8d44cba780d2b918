import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
  type RecordedRequest,
} from '../../../../../test/utils/loopback-http.js';
import {
  ClientAuthConfigurationError,
  DiscoveryError,
  TokenEndpointError,
  TokenRequestError,
  TokenResponseError,
} from '../outgoing/outgoing-errors.js';
import { ClientAssertionSigner } from '../signing/client-assertion-signer.js';
import { TokenClient } from './token-client.js';
import { JWT_BEARER_GRANT_TYPE, type TokenClientOptions } from './token-client.types.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const FAST_RETRY = { baseDelayMs: 2, maxDelayMs: 10 };
const es256 = fixtureKey('ES256');

/** An authorization server double: discovery at the RFC 8414 location, a scriptable token endpoint. */
describe('TokenClient', () => {
  let server: LoopbackServer;
  let issuer: string;
  let tokenEndpoint: string;
  /** What the token endpoint answers, in order; the last one repeats. */
  let script: ((req: RecordedRequest) => {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
    raw?: string;
  })[];
  let issued = 0;
  const clients: TokenClient[] = [];

  const tokenOk =
    (extra: Record<string, unknown> = {}) =>
    () => ({
      status: 200,
      body: { access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: 300, ...extra },
    });
  const tokenRequests = () => server.requests.filter((r) => r.url === '/tenant/token');
  const discoveryRequests = () => server.requests.filter((r) => r.url.includes('.well-known'));

  beforeAll(async () => {
    server = await startLoopbackServer(() => undefined);
    issuer = `${server.url}/tenant`;
    tokenEndpoint = `${server.url}/tenant/token`;
  });
  afterAll(() => server.close());

  beforeEach(() => {
    server.requests.length = 0;
    issued = 0;
    script = [tokenOk()];
    server.handler = (req, res) => {
      if (req.url === '/.well-known/oauth-authorization-server/tenant') {
        sendJson(res, 200, { issuer, token_endpoint: tokenEndpoint });
      } else if (req.url === '/tenant/token') {
        const count = tokenRequests().length;
        const step = script[Math.min(count - 1, script.length - 1)]!(req);
        if (step.raw !== undefined) {
          res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
          res.end(step.raw);
        } else sendJson(res, step.status, step.body, step.headers);
      } else {
        sendJson(res, 404, { error: 'not_found' });
      }
    };
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  const create = (options: Partial<TokenClientOptions> = {}) => {
    const client = new TokenClient({
      clientId: 'svc',
      issuer,
      signingKey: { jwk: es256.privateJwk },
      retry: FAST_RETRY,
      ...options,
    } as TokenClientOptions);
    clients.push(client);
    return client;
  };

  describe('discovery', () => {
    it('finds the token endpoint at the RFC 8414 location (path inserted) and caches it', async () => {
      const client = create();
      expect((await client.getToken()).accessToken).toBe('at-1');
      await client.getToken({ forceRefresh: true });
      expect(discoveryRequests().map((r) => r.url)).toEqual([
        '/.well-known/oauth-authorization-server/tenant',
      ]);
      expect(tokenRequests()).toHaveLength(2);
    });

    it('falls back to OpenID discovery (appended to the issuer)', async () => {
      server.handler = (req, res) => {
        if (req.url === '/tenant/.well-known/openid-configuration') {
          sendJson(res, 200, { issuer, token_endpoint: tokenEndpoint });
        } else if (req.url === '/tenant/token') sendJson(res, 200, tokenOk()().body);
        else sendJson(res, 404, {});
      };
      const client = create();
      expect((await client.metadata()).token_endpoint).toBe(tokenEndpoint);
      expect(discoveryRequests().map((r) => r.url)).toEqual([
        '/.well-known/oauth-authorization-server/tenant',
        '/tenant/.well-known/openid-configuration',
      ]);
    });

    it('refuses metadata naming another issuer (RFC 8414 §3.3) and sends no credentials', async () => {
      server.handler = (req, res) =>
        sendJson(res, 200, { issuer: `${issuer}/`, token_endpoint: tokenEndpoint });
      const error = await create({ retry: false })
        .getToken()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DiscoveryError);
      expect((error as DiscoveryError).transient).toBe(false);
      expect(tokenRequests()).toHaveLength(0);
    });

    it('refuses a plain-http token endpoint off loopback', async () => {
      server.handler = (req, res) =>
        sendJson(res, 200, { issuer, token_endpoint: 'http://as.example.com/token' });
      await expect(create({ retry: false }).metadata()).rejects.toThrow(/must use https/);
    });

    it('re-discovers after metadataTtlSeconds and keeps stale metadata when that fails', async () => {
      let now = 1_000_000;
      const client = create({ clock: () => now, metadataTtlSeconds: 60 });
      await client.metadata();
      now += 61_000;
      const healthy = server.handler;
      server.handler = (req, res) => sendJson(res, 503, {});
      expect((await client.metadata()).token_endpoint).toBe(tokenEndpoint);
      expect(discoveryRequests()).toHaveLength(3);
      server.handler = healthy;
      await client.metadata();
      expect(discoveryRequests()).toHaveLength(4);
    });

    it('skips discovery with a configured token endpoint', async () => {
      await create({ tokenEndpoint }).getToken();
      expect(discoveryRequests()).toHaveLength(0);
    });
  });

  describe('authentication', () => {
    it('private_key_jwt: a fresh RFC 7523 assertion with the issuer audience', async () => {
      const client = create({
        scope: 'read write',
        resource: ['https://api.example/a', 'https://api.example/b'],
        audience: 'api',
      });
      await client.getToken();
      const form = tokenRequests()[0]!.form;
      expect(form.get('grant_type')).toBe('client_credentials');
      expect(form.get('client_id')).toBe('svc');
      expect(form.get('client_assertion_type')).toBe(ASSERTION_TYPE);
      expect(form.get('scope')).toBe('read write');
      expect(form.getAll('resource')).toEqual(['https://api.example/a', 'https://api.example/b']);
      expect(form.get('audience')).toBe('api');
      const publicKey = await importJWK(es256.publicJwk, 'ES256');
      const { payload, protectedHeader } = await jwtVerify(
        form.get('client_assertion')!,
        publicKey,
        {
          issuer: 'svc',
          subject: 'svc',
          audience: issuer,
          typ: 'client-authentication+jwt',
        },
      );
      expect(protectedHeader.kid).toBe(es256.kid);
      expect(payload.exp! - payload.iat!).toBe(60);
      expect(tokenRequests()[0]!.headers.authorization).toBeUndefined();
    });

    it('the token endpoint as audience when configured', async () => {
      await create({ assertion: { audience: 'token_endpoint' } }).getToken();
      const assertion = tokenRequests()[0]!.form.get('client_assertion')!;
      expect(decodeJwt(assertion).aud).toBe(tokenEndpoint);
      expect(decodeProtectedHeader(assertion).typ).toBeUndefined();
    });

    it('client_secret_basic form-urlencodes id and secret first (RFC 6749 §2.3.1)', async () => {
      const client = create({
        clientId: 'a b:c',
        signingKey: undefined,
        clientSecret: 'p@ss word+/',
      });
      expect(client.authMethod).toBe('client_secret_basic');
      await client.getToken();
      const header = tokenRequests()[0]!.headers.authorization!;
      const [id, secret] = Buffer.from(header.replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      const decode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
      expect([decode(id!), decode(secret!)]).toEqual(['a b:c', 'p@ss word+/']);
      expect(id).toBe('a+b%3Ac');
      expect(tokenRequests()[0]!.form.has('client_secret')).toBe(false);
    });

    it('client_secret_post sends the secret in the body', async () => {
      await create({
        signingKey: undefined,
        clientSecret: 's3cret',
        authMethod: 'client_secret_post',
      }).getToken();
      const { form, headers } = tokenRequests()[0]!;
      expect([form.get('client_id'), form.get('client_secret')]).toEqual(['svc', 's3cret']);
      expect(headers.authorization).toBeUndefined();
    });

    it('client_secret_jwt signs with the secret (HS256 by default, or the configured alg)', async () => {
      const secret = 'k'.repeat(64);
      await create({
        signingKey: undefined,
        clientSecret: secret,
        authMethod: 'client_secret_jwt',
        assertion: { alg: 'HS512' },
      }).getToken();
      const assertion = tokenRequests()[0]!.form.get('client_assertion')!;
      const { protectedHeader } = await jwtVerify(assertion, new TextEncoder().encode(secret));
      expect(protectedHeader.alg).toBe('HS512');
      expect(tokenRequests()[0]!.form.has('client_secret')).toBe(false);
    });

    it('an assertion provider is asked for every request with the full context', async () => {
      const contexts: unknown[] = [];
      const provider = {
        getAssertion: async (ctx: unknown) => {
          contexts.push(ctx);
          return 'h.p.s';
        },
      };
      const client = create({ signingKey: undefined, assertionProvider: provider });
      await client.getToken();
      expect(contexts).toEqual([
        { clientId: 'svc', issuer, tokenEndpoint, grantType: 'client_credentials' },
      ]);
      expect(tokenRequests()[0]!.form.get('client_assertion')).toBe('h.p.s');
    });

    it('the JWT bearer grant (RFC 7523 §2.1), cached per grant assertion', async () => {
      const client = create();
      await client.getToken({ grantType: 'jwt_bearer', assertion: 'grant.one.x' });
      await client.getToken({ grantType: 'jwt_bearer', assertion: 'grant.one.x' });
      await client.getToken({ grantType: 'jwt_bearer', assertion: 'grant.two.x' });
      expect(tokenRequests()).toHaveLength(2);
      const form = tokenRequests()[0]!.form;
      expect(form.get('grant_type')).toBe(JWT_BEARER_GRANT_TYPE);
      expect(form.get('assertion')).toBe('grant.one.x');
      expect(form.get('client_assertion_type')).toBe(ASSERTION_TYPE);
    });
  });

  describe('token cache', () => {
    it('one network call for many concurrent callers, then served from the cache', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const healthy = server.handler;
      server.handler = async (req, res) => {
        if (req.url === '/tenant/token') await gate;
        return healthy(req, res);
      };
      const client = create();
      const callers = Array.from({ length: 50 }, () => client.getToken());
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      const tokens = await Promise.all(callers);
      expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(['at-1']));
      expect(tokenRequests()).toHaveLength(1);
      await client.getToken();
      expect(tokenRequests()).toHaveLength(1);
    });

    it('keys the cache by scope (in any order), resource and audience', async () => {
      const client = create();
      await client.getToken({ scope: 'a b' });
      await client.getToken({ scope: ['b', 'a'] });
      await client.getToken({ scope: 'a' });
      await client.getToken({ scope: 'a', resource: 'https://api.example/' });
      await client.getToken({ scope: 'a', audience: 'x' });
      expect(tokenRequests()).toHaveLength(4);
    });

    it('refreshes shortly before expires_in (skew), never after', async () => {
      let now = 5_000_000;
      const client = create({ clock: () => now, expirySkewSeconds: 30 });
      const first = await client.getToken();
      expect(first.expiresAt).toBe(5_000_000 + 300_000);
      now += 269_000;
      expect((await client.getToken()).accessToken).toBe('at-1');
      now += 2_000; // 29 s before expiry
      expect((await client.getToken()).accessToken).toBe('at-2');
      expect(tokenRequests()).toHaveLength(2);
    });

    it('refreshes a short-lived token at half its lifetime', async () => {
      script = [tokenOk({ expires_in: 20 })];
      let now = 0;
      const client = create({ clock: () => now });
      await client.getToken();
      now = 9_999;
      expect((await client.getToken()).accessToken).toBe('at-1');
      now = 10_000;
      expect((await client.getToken()).accessToken).toBe('at-2');
    });

    it('assumes defaultExpiresInSeconds without expires_in; never caches expires_in 0', async () => {
      script = [tokenOk({ expires_in: undefined })];
      let now = 0;
      const client = create({ clock: () => now, defaultExpiresInSeconds: 100 });
      expect((await client.getToken()).expiresAt).toBe(100_000);
      expect(tokenRequests()).toHaveLength(1);
      script = [tokenOk({ expires_in: 0 })];
      await client.getToken({ scope: 'z' });
      await client.getToken({ scope: 'z' });
      expect(tokenRequests()).toHaveLength(3);
      now = 0;
    });

    it('serves the still-valid token when a refresh fails transiently, not after expiry', async () => {
      let now = 0;
      const client = create({ clock: () => now, retry: { ...FAST_RETRY, maxAttempts: 2 } });
      await client.getToken();
      script = [() => ({ status: 503, body: { error: 'temporarily_unavailable' } })];
      now = 290_000; // in the refresh window, still valid
      expect((await client.getToken()).accessToken).toBe('at-1');
      now = 300_000; // expired
      await expect(client.getToken()).rejects.toBeInstanceOf(TokenEndpointError);
    });

    it('invalidate(token) drops only the entry holding that token', async () => {
      const client = create();
      const a = await client.getToken({ scope: 'a' });
      await client.getToken({ scope: 'b' });
      client.invalidate(a.accessToken);
      await client.getToken({ scope: 'a' });
      await client.getToken({ scope: 'b' });
      expect(tokenRequests()).toHaveLength(3);
      client.invalidate('not-cached');
      client.invalidate();
      await client.getToken({ scope: 'b' });
      expect(tokenRequests()).toHaveLength(4);
    });

    it('a caller can stop waiting while the shared request completes for the others', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const healthy = server.handler;
      server.handler = async (req, res) => {
        if (req.url === '/tenant/token') await gate;
        return healthy(req, res);
      };
      const client = create();
      const controller = new AbortController();
      const impatient = client.getToken({ signal: controller.signal });
      const patient = client.getToken();
      controller.abort(new Error('gave up'));
      await expect(impatient).rejects.toThrow('gave up');
      release();
      expect((await patient).accessToken).toBe('at-1');
    });

    it('bounds the number of cached tokens', async () => {
      const client = create({ maxCachedTokens: 2 });
      await client.getToken({ scope: 'a' });
      await client.getToken({ scope: 'b' });
      await client.getToken({ scope: 'c' }); // evicts a
      await client.getToken({ scope: 'b' });
      await client.getToken({ scope: 'a' });
      expect(tokenRequests()).toHaveLength(4);
    });
  });

  describe('retries', () => {
    it('retries 5xx with a new assertion each time, then succeeds', async () => {
      script = [
        () => ({ status: 503, body: { error: 'temporarily_unavailable' } }),
        () => ({ status: 500, body: 'oops' }),
        tokenOk(),
      ];
      const token = await create().getToken();
      expect(token.accessToken).toBe('at-1');
      const jtis = tokenRequests().map((r) => decodeJwt(r.form.get('client_assertion')!).jti);
      expect(new Set(jtis).size).toBe(3);
    });

    it('gives up after maxAttempts with the last error', async () => {
      script = [
        () => ({ status: 502, body: { error: 'server_error', error_description: 'upstream' } }),
      ];
      const error = (await create({ retry: { ...FAST_RETRY, maxAttempts: 4 } })
        .getToken()
        .catch((e: unknown) => e)) as TokenEndpointError;
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error).toMatchObject({
        status: 502,
        error: 'server_error',
        errorDescription: 'upstream',
        attempts: 4,
      });
      expect(tokenRequests()).toHaveLength(4);
    });

    it('backs off between attempts, exponentially with jitter', async () => {
      script = [() => ({ status: 500, body: {} })];
      await create({
        retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
        random: () => 1,
      })
        .getToken()
        .catch(() => undefined);
      const [a, b, c] = tokenRequests().map((r) => r.at);
      expect(b! - a!).toBeGreaterThanOrEqual(95);
      expect(c! - b!).toBeGreaterThanOrEqual(195);
    });

    it('never retries invalid_client, and surfaces the server error', async () => {
      script = [
        () => ({
          status: 401,
          body: {
            error: 'invalid_client',
            error_description: 'kid_unknown: no registered key',
            error_uri: 'https://as/docs',
          },
          headers: { 'www-authenticate': 'Basic' },
        }),
      ];
      const error = (await create()
        .getToken()
        .catch((e: unknown) => e)) as TokenEndpointError;
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error).toMatchObject({
        code: 'token_endpoint_error',
        status: 401,
        error: 'invalid_client',
        errorDescription: 'kid_unknown: no registered key',
        errorUri: 'https://as/docs',
        attempts: 1,
      });
      expect(error.transient).toBe(false);
      expect(error.message).toContain('invalid_client');
      expect(tokenRequests()).toHaveLength(1);
    });

    it.each([
      [400, 'invalid_scope'],
      [400, 'invalid_grant'],
      [403, 'access_denied'],
      [404, undefined],
    ])('never retries %i %s', async (status, error) => {
      script = [() => ({ status, body: error ? { error } : 'not found' })];
      await expect(create().getToken()).rejects.toMatchObject({ status, error });
      expect(tokenRequests()).toHaveLength(1);
    });

    it('honours 429 Retry-After in seconds', async () => {
      script = [
        () => ({ status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '1' } }),
        tokenOk(),
      ];
      await create({ retry: { ...FAST_RETRY, maxAttempts: 2 } }).getToken();
      const [first, second] = tokenRequests();
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
    });

    it('does not wait longer than maxRetryAfterMs: the error carries the delay', async () => {
      script = [
        () => ({ status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '120' } }),
      ];
      const error = (await create({ retry: { ...FAST_RETRY, maxRetryAfterMs: 5000 } })
        .getToken()
        .catch((e: unknown) => e)) as TokenEndpointError;
      expect(error).toMatchObject({ status: 429, retryAfterMs: 120_000, attempts: 1 });
      expect(tokenRequests()).toHaveLength(1);
    });

    it('retries network errors, then raises TokenRequestError', async () => {
      const closed = await closedPort();
      const client = create({
        tokenEndpoint: `http://127.0.0.1:${closed}/token`,
        retry: { ...FAST_RETRY, maxAttempts: 3 },
      });
      const error = (await client.getToken().catch((e: unknown) => e)) as TokenRequestError;
      expect(error).toBeInstanceOf(TokenRequestError);
      expect(error).toMatchObject({ kind: 'network', attempts: 3, code: 'token_request_failed' });
    });

    it('times out a hanging token endpoint (AbortSignal)', async () => {
      server.handler = () => undefined; // never answers
      const error = (await create({
        tokenEndpoint,
        timeoutMs: 100,
        retry: { ...FAST_RETRY, maxAttempts: 2 },
      })
        .getToken()
        .catch((e: unknown) => e)) as TokenRequestError;
      expect(error).toMatchObject({ kind: 'timeout', attempts: 2 });
      expect(server.requests).toHaveLength(2);
    });

    it('retries a discovery outage like any transient failure', async () => {
      let outage = 2;
      const healthy = server.handler;
      server.handler = (req, res) => {
        if (req.url.includes('.well-known') && outage > 0) {
          outage--;
          return sendJson(res, 503, {});
        }
        return healthy(req, res);
      };
      expect((await create().getToken()).accessToken).toBe('at-1');
    });

    it('follows no redirect with credentials', async () => {
      const elsewhere = await startLoopbackServer((req, res) =>
        sendJson(res, 200, tokenOk()().body),
      );
      try {
        script = [
          () => ({ status: 307, body: {}, headers: { location: `${elsewhere.url}/token` } }),
        ];
        await expect(create().getToken()).rejects.toMatchObject({ status: 307 });
        expect(elsewhere.requests).toHaveLength(0);
      } finally {
        await elsewhere.close();
      }
    });
  });

  describe('token responses', () => {
    it('refuses a body that is not JSON', async () => {
      script = [() => ({ status: 200, body: undefined, raw: '<html>' })];
      await expect(create().getToken()).rejects.toThrow(/not JSON/);
    });

    it('returns the RFC 6749 §5.1 fields', async () => {
      script = [tokenOk({ token_type: 'bearer', scope: 'read', expires_in: '120', extra: 1 })];
      const token = await create({ clock: () => 0 }).getToken();
      expect(token).toMatchObject({
        tokenType: 'Bearer',
        scope: 'read',
        expiresIn: 120,
        expiresAt: 120_000,
      });
      expect(token.raw.extra).toBe(1);
    });

    it.each([
      ['a JSON string', 'nope', /not a JSON object/],
      ['no access_token', { token_type: 'Bearer' }, /no access_token/],
      ['a DPoP token', { access_token: 'x', token_type: 'DPoP' }, /Bearer only/],
      ['an array', [1], /not a JSON object/],
    ])('refuses %s without retrying', async (_name, body, message) => {
      script = [() => ({ status: 200, body })];
      const error = await create()
        .getToken()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenResponseError);
      expect((error as Error).message).toMatch(message);
      expect(tokenRequests()).toHaveLength(1);
    });
  });

  describe('configuration', () => {
    const signer = () => new ClientAssertionSigner({ key: { jwk: es256.privateJwk } });
    it.each<[string, Partial<TokenClientOptions>, RegExp]>([
      [
        'a secret and an assertion provider',
        { signingKey: undefined, clientSecret: 's', assertionProvider: signer() },
        /not assertionProvider and clientSecret/,
      ],
      ['a secret and a signing key', { clientSecret: 's' }, /not signingKey and clientSecret/],
      [
        'a provider with client_secret_basic',
        { authMethod: 'client_secret_basic' },
        /not client_secret_basic/,
      ],
      [
        'a secret with private_key_jwt',
        { signingKey: undefined, clientSecret: 's', authMethod: 'private_key_jwt' },
        /not private_key_jwt/,
      ],
      ['no credentials', { signingKey: undefined }, /configure a credential/],
      [
        'private_key_jwt without a key',
        { signingKey: undefined, authMethod: 'private_key_jwt' },
        /needs an assertionProvider/,
      ],
      [
        'client_secret_post without a secret',
        { signingKey: undefined, authMethod: 'client_secret_post' },
        /needs a clientSecret/,
      ],
      ['an unknown method', { authMethod: 'tls_client_auth' as never }, /not supported/],
      ['an http issuer off loopback', { issuer: 'http://as.example.com' }, /must use https/],
      ['an issuer with a query', { issuer: 'https://as.example.com/?x=1' }, /query/],
      ['an issuer with a fragment', { issuer: 'https://as.example.com/#x' }, /fragment/],
      ['a malformed scope', { scope: ['a"b'] }, /scope token/],
      ['a relative resource', { resource: '/api' }, /RFC 8707/],
      ['an empty client id', { clientId: '' }, /clientId/],
      ['a zero timeout', { timeoutMs: 0 }, /timeoutMs/],
      ['too many attempts', { retry: { maxAttempts: 50 } }, /maxAttempts/],
      [
        'a weak client_secret_jwt secret',
        { signingKey: undefined, clientSecret: 'short', authMethod: 'client_secret_jwt' },
        /RFC 7518 §3.2/,
      ],
    ])('refuses %s at construction', (_name, options, message) => {
      expect(() => create(options)).toThrow(message);
    });

    it('allows authMethod none (public client, e.g. for the JWT bearer grant)', async () => {
      const client = create({ signingKey: undefined, authMethod: 'none' });
      await client.getToken({ grantType: 'jwt_bearer', assertion: 'g.r.t' });
      const form = tokenRequests()[0]!.form;
      expect(form.get('client_id')).toBe('svc');
      expect(form.has('client_assertion')).toBe(false);
    });

    it('allows plain http off loopback only with allowInsecureHttp', () => {
      expect(() => create({ issuer: 'http://as.internal', allowInsecureHttp: true })).not.toThrow();
    });

    it('refuses bad requests without a network call', async () => {
      const client = create();
      await expect(client.getToken({ grantType: 'jwt_bearer' })).rejects.toBeInstanceOf(
        ClientAuthConfigurationError,
      );
      await expect(client.getToken({ assertion: 'x' })).rejects.toBeInstanceOf(
        ClientAuthConfigurationError,
      );
      expect(server.requests).toHaveLength(0);
    });

    it('creates assertions on demand, and refuses for secret clients', async () => {
      const assertion = await create().createClientAssertion();
      expect(decodeJwt(assertion).aud).toBe(issuer);
      await expect(
        create({ signingKey: undefined, clientSecret: 'x' }).createClientAssertion(),
      ).rejects.toBeInstanceOf(ClientAuthConfigurationError);
    });
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
