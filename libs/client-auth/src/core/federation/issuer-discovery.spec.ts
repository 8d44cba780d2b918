import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../../../../test/utils/loopback-http.js';
import { startTestIssuer, type TestIssuer } from '../../../../../test/utils/test-issuer.js';
import { JwksFetchError, JwksUriRejectedError } from '../jwks/jwks-errors.js';
import { JwksFetcher } from '../jwks/jwks-fetcher.js';
import { FederatedIssuerDiscovery } from './issuer-discovery.js';

const POLICY = { allowHosts: ['127.0.0.1'] };

interface Served {
  readonly status: number;
  readonly body: unknown;
  readonly type?: string;
}
const fetcher = new JwksFetcher({ ...POLICY, timeoutMs: 2000 });

/** A discovery with a controllable clock, over the real fetcher and loopback HTTP. */
function discoveryAt(start = 1_000_000, options: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = { now: start };
  const discovery = new FederatedIssuerDiscovery({
    fetcher,
    policy: POLICY,
    clock: () => clock.now,
    ...options,
  });
  return { discovery, clock };
}

describe('FederatedIssuerDiscovery', () => {
  const issuers: TestIssuer[] = [];
  let custom: LoopbackServer;
  /** What the custom server answers at `/.well-known/openid-configuration`. */
  let answer: Served = { status: 404, body: {} };
  /** What it answers at `/.well-known/oauth-authorization-server`. */
  let oauthAnswer: Served = { status: 404, body: {} };

  const issuer = async (...args: Parameters<typeof startTestIssuer>) => {
    const started = await startTestIssuer(...args);
    issuers.push(started);
    return started;
  };

  beforeAll(async () => {
    custom = await startLoopbackServer((request, response) => {
      const served =
        request.url === '/.well-known/openid-configuration'
          ? answer
          : request.url === '/.well-known/oauth-authorization-server'
            ? oauthAnswer
            : { status: 404, body: { error: 'not_found' } };
      if (served.type) {
        response.writeHead(served.status, { 'content-type': served.type });
        response.end(String(served.body));
        return;
      }
      sendJson(response, served.status, served.body);
    });
  });

  afterEach(() => {
    answer = { status: 404, body: {} };
    oauthAnswer = { status: 404, body: {} };
  });

  afterAll(async () => {
    await Promise.all(issuers.map((started) => started.close()));
    await custom.close();
  });

  it('finds jwks_uri by OpenID discovery', async () => {
    const idp = await issuer({ discovery: 'openid' });
    const { discovery } = discoveryAt();
    await expect(discovery.jwksUriFor(idp.issuer)).resolves.toBe(idp.jwksUri);
    expect(idp.count('/.well-known/openid-configuration')).toBe(1);
  });

  it('falls back to RFC 8414 metadata, the well-known suffix between host and path (§3.1)', async () => {
    const idp = await issuer({ discovery: 'oauth', path: '/id/cluster-a' });
    const { discovery } = discoveryAt();
    await expect(discovery.jwksUriFor(idp.issuer)).resolves.toBe(idp.jwksUri);
    expect(idp.requests.map((r) => r.url)).toEqual([
      '/id/cluster-a/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server/id/cluster-a',
    ]);
  });

  it('appends the OpenID suffix to an issuer with a path', async () => {
    const idp = await issuer({ discovery: 'openid', path: '/tenant/7' });
    const { discovery } = discoveryAt();
    await expect(discovery.jwksUriFor(idp.issuer)).resolves.toBe(idp.jwksUri);
    expect(idp.requests.map((r) => r.url)).toEqual(['/tenant/7/.well-known/openid-configuration']);
  });

  it('caches a result for ttlMs and shares one fetch among concurrent lookups', async () => {
    const idp = await issuer();
    const { discovery, clock } = discoveryAt(1_000_000, { ttlMs: 60_000 });
    const results = await Promise.all([1, 2, 3, 4].map(() => discovery.jwksUriFor(idp.issuer)));
    expect(new Set(results)).toEqual(new Set([idp.jwksUri]));
    expect(idp.count('/.well-known/openid-configuration')).toBe(1);
    clock.now += 59_999;
    await discovery.jwksUriFor(idp.issuer);
    expect(idp.count('/.well-known/openid-configuration')).toBe(1);
    clock.now += 1;
    await discovery.jwksUriFor(idp.issuer);
    expect(idp.count('/.well-known/openid-configuration')).toBe(2);
  });

  it('remembers a failure for failureTtlMs (30 s), then tries again', async () => {
    const idp = await issuer({ discovery: 'none' });
    const { discovery, clock } = discoveryAt();
    await expect(discovery.jwksUriFor(idp.issuer)).rejects.toMatchObject({
      reason: 'http_status',
    });
    const after = idp.requests.length;
    expect(after).toBe(2); // OpenID, then RFC 8414
    clock.now += 29_000;
    await expect(discovery.jwksUriFor(idp.issuer)).rejects.toBeInstanceOf(JwksFetchError);
    expect(idp.requests.length).toBe(after);
    clock.now += 1_000;
    await expect(discovery.jwksUriFor(idp.issuer)).rejects.toBeInstanceOf(JwksFetchError);
    expect(idp.requests.length).toBe(after + 2);
  });

  it('refuses a document naming another issuer (OpenID Discovery §4.3, RFC 8414 §3.3)', async () => {
    const idp = await issuer();
    const { discovery } = discoveryAt();
    // The issuer registered with a trailing slash is not the one the document names.
    await expect(discovery.jwksUriFor(`${idp.issuer}/`)).rejects.toMatchObject({
      reason: 'invalid_json',
      message: expect.stringContaining('names another issuer'),
    });
    idp.discoveryOverrides = { issuer: 'https://evil.example' };
    await expect(discoveryAt().discovery.jwksUriFor(idp.issuer)).rejects.toMatchObject({
      reason: 'invalid_json',
      message: expect.stringContaining('names another issuer'),
    });
  });

  it.each([
    ['a private address', 'https://10.0.0.7/keys', 'address_not_public'],
    ['a link-local address', 'https://169.254.10.1/keys', 'address_not_public'],
    ['a cloud metadata address', 'https://169.254.169.254/latest/keys', 'metadata_host'],
    ['plain http off the allow list', 'http://keys.example.com/jwks', 'scheme_not_https'],
    ['credentials in the URL', 'https://user:pw@keys.example.com/jwks', 'credentials_in_uri'],
  ])('refuses a discovered jwks_uri at %s (SPEC S3)', async (_what, jwksUri, reason) => {
    const idp = await issuer();
    idp.discoveryOverrides = { jwks_uri: jwksUri };
    const { discovery } = discoveryAt();
    const failure = discovery.jwksUriFor(idp.issuer);
    await expect(failure).rejects.toBeInstanceOf(JwksUriRejectedError);
    await expect(failure).rejects.toMatchObject({ reason });
    // Nothing was fetched from the refused address: only the discovery document was read.
    expect(idp.requests.map((r) => r.url)).toEqual(['/.well-known/openid-configuration']);
  });

  it.each([
    ['no jwks_uri', { status: 200, body: { issuer: 'SELF' } }, 'has no jwks_uri'],
    [
      'a non-string jwks_uri',
      { status: 200, body: { issuer: 'SELF', jwks_uri: 7 } },
      'no jwks_uri',
    ],
    ['JSON null', { status: 200, body: null }, 'is not a JSON object'],
    ['a JSON string', { status: 200, body: 'hello' }, 'is not a JSON object'],
  ])('refuses a document with %s', async (_what, served, message) => {
    const self = custom.url;
    answer =
      typeof served.body === 'object' && served.body !== null
        ? {
            ...served,
            body: Object.fromEntries(
              Object.entries(served.body).map(([k, v]) => [k, v === 'SELF' ? self : v]),
            ),
          }
        : served;
    const { discovery } = discoveryAt();
    await expect(discovery.jwksUriFor(self)).rejects.toMatchObject({
      reason: 'invalid_json',
      message: expect.stringContaining(message),
    });
  });

  it('falls back to RFC 8414 when the OpenID document cannot be read', async () => {
    answer = { status: 200, body: '{nope', type: 'application/json' };
    oauthAnswer = { status: 200, body: { issuer: custom.url, jwks_uri: `${custom.url}/keys` } };
    const { discovery } = discoveryAt();
    await expect(discovery.jwksUriFor(custom.url)).resolves.toBe(`${custom.url}/keys`);
  });

  it('reports the failure of the last location when neither document can be read', async () => {
    answer = { status: 200, body: '{nope', type: 'application/json' };
    oauthAnswer = { status: 200, body: 'not json either', type: 'text/html' };
    const { discovery } = discoveryAt();
    await expect(discovery.jwksUriFor(custom.url)).rejects.toMatchObject({
      reason: 'media_type',
    });
  });

  it('fetches discovery documents under the SSRF policy too (no http off the allow list)', async () => {
    const idp = await issuer();
    const strict = new FederatedIssuerDiscovery({ fetcher: new JwksFetcher({}) });
    await expect(strict.jwksUriFor(idp.issuer)).rejects.toMatchObject({
      reason: 'scheme_not_https',
    });
    expect(idp.requests).toHaveLength(0);
  });

  it('keeps at most maxEntries issuers', async () => {
    const first = await issuer();
    const second = await issuer();
    const { discovery } = discoveryAt(1_000_000, { maxEntries: 1 });
    await discovery.jwksUriFor(first.issuer);
    await discovery.jwksUriFor(second.issuer); // evicts the first
    await discovery.jwksUriFor(first.issuer);
    expect(first.count('/.well-known/openid-configuration')).toBe(2);
  });
});
