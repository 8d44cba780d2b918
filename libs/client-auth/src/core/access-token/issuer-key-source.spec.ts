import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { JWK } from 'jose';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../../../../test/utils/loopback-http.js';
import { InvalidJwksError } from '../jwks/jwks-errors.js';
import { JwksCache } from '../jwks/jwks-cache.js';
import { RemoteIssuerKeySource, StaticKeySource } from './issuer-key-source.js';

const es256 = fixtureKey('ES256', 0).publicJwk;
const rs256 = fixtureKey('RS256', 0).publicJwk;

describe('RemoteIssuerKeySource: discovery (real HTTP)', () => {
  let server: LoopbackServer;
  let issuer: string;
  /** What each path answers: a metadata document, a key set, or a status. */
  let routes: Record<string, unknown>;
  let clock: number;

  beforeAll(async () => {
    server = await startLoopbackServer((request, response) => {
      const path = request.url.split('?')[0]!;
      const route = routes[path];
      if (typeof route === 'number') return sendJson(response, route, { error: 'nope' });
      if (route === undefined) return sendJson(response, 404, { error: 'not_found' });
      sendJson(response, 200, route);
    });
    issuer = server.url;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    clock = 1_900_000_000_000;
    routes = {
      '/.well-known/oauth-authorization-server': {
        issuer,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/keys`,
      },
      '/keys': { keys: [es256] },
    };
  });

  function source(
    overrides: Partial<ConstructorParameters<typeof RemoteIssuerKeySource>[0]> = {},
  ): RemoteIssuerKeySource {
    return new RemoteIssuerKeySource({
      issuer,
      keySets: new JwksCache({ fetch: { allowHosts: ['127.0.0.1'] }, now: () => clock }),
      discovery: { now: () => clock },
      ...overrides,
    });
  }

  const paths = () => server.requests.map((r) => r.url);

  it('discovers jwks_uri from /.well-known/oauth-authorization-server (RFC 8414 §3)', async () => {
    const keys = source();
    const snapshot = await keys.get();
    expect(snapshot.keys.map((k) => k.kid)).toEqual([es256.kid]);
    expect(paths()).toEqual(['/.well-known/oauth-authorization-server', '/keys']);
  });

  it('falls back to /.well-known/openid-configuration', async () => {
    routes['/.well-known/openid-configuration'] = routes['/.well-known/oauth-authorization-server'];
    delete routes['/.well-known/oauth-authorization-server'];
    await source().get();
    expect(paths()).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
      '/keys',
    ]);
  });

  it('refuses metadata naming another issuer (RFC 8414 §3.3)', async () => {
    routes['/.well-known/oauth-authorization-server'] = {
      issuer: 'https://evil.example.com',
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/keys`,
    };
    await expect(source().get()).rejects.toThrow(/RFC 8414 §3.3/);
    expect(paths()).not.toContain('/keys');
  });

  it('refuses metadata without jwks_uri', async () => {
    routes['/.well-known/oauth-authorization-server'] = { issuer, token_endpoint: `${issuer}/t` };
    await expect(source().get()).rejects.toThrow(/no jwks_uri/);
  });

  it('discovers once, shares one discovery between concurrent callers, and rediscovers after the TTL', async () => {
    const keys = source({ discovery: { now: () => clock, metadataTtlSeconds: 60 } });
    await Promise.all([keys.get(), keys.get(), keys.get()]);
    await keys.get();
    const discoveries = () =>
      paths().filter((p) => p === '/.well-known/oauth-authorization-server').length;
    expect(discoveries()).toBe(1);
    clock += 61_000;
    routes['/.well-known/oauth-authorization-server'] = {
      issuer,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/keys-v2`,
    };
    routes['/keys-v2'] = { keys: [rs256] };
    const snapshot = await keys.get();
    expect(discoveries()).toBe(2);
    expect(snapshot.keys.map((k) => k.kid)).toEqual([rs256.kid]);
  });

  it('does not retry a failed discovery within the pause, then recovers', async () => {
    routes['/.well-known/oauth-authorization-server'] = 503;
    routes['/.well-known/openid-configuration'] = 503;
    const keys = source({ discovery: { now: () => clock, retryAfterSeconds: 30 } });
    await expect(keys.get()).rejects.toThrow(/no usable metadata/);
    const attempts = paths().length;
    await expect(keys.get()).rejects.toThrow(/no usable metadata/);
    expect(paths().length).toBe(attempts);
    routes['/.well-known/oauth-authorization-server'] = {
      issuer,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/keys`,
    };
    clock += 31_000;
    await expect(keys.get()).resolves.toMatchObject({
      keys: [expect.objectContaining({ kid: es256.kid })],
    });
  });

  it('keeps the discovered jwks_uri while rediscovery fails', async () => {
    const keys = source({ discovery: { now: () => clock, metadataTtlSeconds: 60 } });
    await keys.get();
    routes['/.well-known/oauth-authorization-server'] = 500;
    routes['/.well-known/openid-configuration'] = 500;
    clock += 61_000;
    await expect(keys.jwksUri()).resolves.toBe(`${issuer}/keys`);
  });

  it('uses a configured jwks_uri without discovery', async () => {
    await source({ jwksUri: `${issuer}/keys` }).get();
    expect(paths()).toEqual(['/keys']);
  });

  it('refreshes through the cache, which limits refetches to one per cooldown', async () => {
    const keys = new RemoteIssuerKeySource({
      issuer,
      jwksUri: `${issuer}/keys`,
      keySets: new JwksCache({
        fetch: { allowHosts: ['127.0.0.1'] },
        cooldownSeconds: 30,
        now: () => clock,
      }),
    });
    await keys.get();
    expect(await keys.refresh()).toBeUndefined();
    clock += 31_000;
    routes['/keys'] = { keys: [es256, rs256] };
    expect((await keys.refresh())?.keys).toHaveLength(2);
    expect(paths()).toEqual(['/keys', '/keys']);
  });

  it('refuses a private jwks_uri host unless allow-listed (SSRF policy, SPEC S6)', async () => {
    const keys = new RemoteIssuerKeySource({
      issuer,
      jwksUri: `${issuer}/keys`,
      keySets: new JwksCache(),
    });
    await expect(keys.get()).rejects.toMatchObject({ name: 'JwksUriRejectedError' });
    expect(paths()).toEqual([]);
  });
});

describe('StaticKeySource', () => {
  it('validates a static set at construction', () => {
    expect(() => new StaticKeySource({ keys: [{ ...es256, d: 'secret' } as JWK] })).toThrow(
      InvalidJwksError,
    );
    expect(() => new StaticKeySource({ keys: 'nope' } as never)).toThrow(InvalidJwksError);
  });

  it('serves a static set and has nothing fresher', async () => {
    const keys = new StaticKeySource({ keys: [es256] });
    expect((await keys.get()).keys.map((k) => k.kid)).toEqual([es256.kid]);
    expect(await keys.refresh()).toBeUndefined();
  });

  it('calls a function each time and keeps the snapshot while it returns the same keys', async () => {
    let current: JWK[] = [es256];
    let calls = 0;
    const keys = new StaticKeySource(() => {
      calls++;
      return { keys: current };
    });
    const first = await keys.get();
    expect(await keys.get()).toBe(first);
    expect(await keys.refresh()).toBeUndefined();
    current = [es256, rs256];
    const fresh = await keys.refresh();
    expect(fresh?.keys).toHaveLength(2);
    expect(await keys.get()).toBe(fresh);
    expect(calls).toBe(5);
  });
});
