import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import { JwksFetchError, JwksUriRejectedError, type JwksFetchReason } from './jwks-errors.js';
import { createJwksUriAdmission } from './jwks-uri-admission.js';
import type { JwksResolver } from './ssrf-policy.js';

/**
 * SPEC S3 `jwks_uri` admission: the URL and the addresses its host resolves to pass the SSRF
 * checks, and the key set it serves is fetched once and holds a usable key. A loopback server
 * stands in for the client's JWKS endpoint (allow-listed, as `JWKS_URI_ALLOW_HOSTS` would).
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server whose handler each test sets; counts requests. */
class JwksServer {
  handler: Handler = (_req, res) => res.end();
  requests = 0;
  readonly #server: Server = createServer((req, res) => {
    this.requests++;
    this.handler(req, res);
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(host = '127.0.0.1', scheme = 'http'): string {
    return `${scheme}://${host}:${this.port}/jwks.json`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function serve(body: unknown, contentType = 'application/json'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** A resolver answering from a fixed table, recording the names it was asked for. */
function tableResolver(table: Record<string, string[]>): JwksResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver: JwksResolver = async (hostname) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({
      address,
      family: (address.includes(':') ? 6 : 4) as 4 | 6,
    }));
  };
  return Object.assign(resolver, { calls });
}

async function refusal(promise: Promise<unknown>): Promise<JwksFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JwksFetchError);
  return error as JwksFetchError;
}

const ES256 = fixtureKey('ES256');
const RS256 = fixtureKey('RS256');
const PRIVATE = fixtureKey('ES256', 1).privateJwk;

describe('createJwksUriAdmission (SPEC S3)', () => {
  const server = new JwksServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  beforeEach(() => {
    server.handler = serve({ keys: [ES256.publicJwk, RS256.publicJwk] });
    server.requests = 0;
  });

  it('admits an allow-listed loopback URL serving usable keys, fetching it once', async () => {
    const admit = createJwksUriAdmission({ allowHosts: ['127.0.0.1'] });
    await expect(admit(server.url())).resolves.toBe(2);
    expect(server.requests).toBe(1);
  });

  it('resolves an allow-listed host name through the injected resolver', async () => {
    const resolver = tableResolver({ 'jwks.client.test': ['127.0.0.1'] });
    const admit = createJwksUriAdmission({ allowHosts: ['jwks.client.test'], resolver });
    await expect(admit(server.url('jwks.client.test'))).resolves.toBe(2);
    // Once at admission, once at connect time (DNS rebinding cannot slip in between).
    expect(resolver.calls).toEqual(['jwks.client.test', 'jwks.client.test']);
    expect(server.requests).toBe(1);
  });

  it('counts only the keys usable for signatures', async () => {
    server.handler = serve({ keys: [ES256.publicJwk, { ...RS256.publicJwk, use: 'enc' }] });
    const admit = createJwksUriAdmission({ allowHosts: ['127.0.0.1'] });
    await expect(admit(server.url())).resolves.toBe(1);
  });

  it.each([
    ['an empty set', serve({ keys: [] }), 'invalid_jwks', /no key usable/],
    [
      'a set with only encryption keys',
      serve({ keys: [{ ...ES256.publicJwk, use: 'enc' }] }),
      'invalid_jwks',
      /no key usable/,
    ],
    [
      'a set with a private key member',
      serve({ keys: [ES256.publicJwk, PRIVATE] }),
      'invalid_jwks',
      /private member "d"/,
    ],
    ['an object without keys', serve({ hello: 'world' }), 'invalid_jwks', /keys/],
    ['an HTML page', serve('<html></html>', 'text/html'), 'media_type', /not JSON/],
    ['invalid JSON', serve('{"keys": [', 'application/json'), 'invalid_json', /valid JSON/],
    [
      'a 404',
      ((_req, res) => {
        res.writeHead(404).end();
      }) as Handler,
      'http_status',
      /404/,
    ],
    [
      'a redirect',
      ((_req, res) => {
        res.writeHead(302, { location: 'http://127.0.0.1/elsewhere' }).end();
      }) as Handler,
      'redirect_refused',
      /redirects are not followed/,
    ],
  ] as [string, Handler, JwksFetchReason, RegExp][])(
    'refuses %s',
    async (_case, handler, reason, message) => {
      server.handler = handler;
      const admit = createJwksUriAdmission({ allowHosts: ['127.0.0.1'] });
      const error = await refusal(admit(server.url()));
      expect(error.reason).toBe(reason);
      expect(error.message).toMatch(message);
      // Messages never carry key material.
      expect(error.message).not.toContain(PRIVATE.d!);
      expect(server.requests).toBe(1);
    },
  );

  it.each([
    ['a private address', ['10.1.2.3'], 'private'],
    ['a loopback address', ['127.0.0.1'], 'loopback'],
    ['a public and a private address', ['93.184.216.34', '192.168.0.10'], 'private'],
    ['an IPv4-mapped loopback address', ['::ffff:127.0.0.1'], 'loopback'],
    ['a CGNAT address', ['100.64.0.1'], 'cgnat'],
  ])(
    'refuses a host that resolves to %s when not allow-listed, without connecting',
    async (_case, addresses, addressClass) => {
      const resolver = tableResolver({ 'jwks.internal.test': addresses });
      const admit = createJwksUriAdmission({ resolver });
      const error = await refusal(admit(`https://jwks.internal.test:${server.port}/jwks.json`));
      expect(error).toBeInstanceOf(JwksUriRejectedError);
      expect(error).toMatchObject({ reason: 'address_not_public', addressClass });
      // The refusal does not disclose the internal address.
      for (const address of addresses) expect(error.message).not.toContain(address);
      expect(resolver.calls).toEqual(['jwks.internal.test']);
      expect(server.requests).toBe(0);
    },
  );

  it('refuses a cloud metadata address even for an allow-listed host', async () => {
    const resolver = tableResolver({ 'jwks.client.test': ['169.254.169.254'] });
    const admit = createJwksUriAdmission({ allowHosts: ['jwks.client.test'], resolver });
    const error = await refusal(admit(server.url('jwks.client.test')));
    expect(error).toMatchObject({ reason: 'metadata_host' });
    expect(server.requests).toBe(0);
  });

  it.each([
    ['plain http to a host not allow-listed', () => server.url('127.0.0.1'), 'scheme_not_https'],
    [
      'a loopback IP literal not allow-listed',
      () => server.url('127.0.0.1', 'https'),
      'address_not_public',
    ],
    ['a localhost name', () => server.url('localhost', 'https'), 'address_not_public'],
    ['credentials in the URL', () => server.url('user:pass@127.0.0.1'), 'credentials_in_uri'],
    ['a fragment', () => `${server.url()}#keys`, 'fragment_in_uri'],
  ] as [string, () => string, JwksFetchReason][])(
    'refuses %s before any connection',
    async (_case, uri, reason) => {
      const allowHosts =
        reason === 'scheme_not_https' || reason === 'address_not_public' ? [] : ['127.0.0.1'];
      const admit = createJwksUriAdmission({ allowHosts });
      const error = await refusal(admit(uri()));
      expect(error.reason).toBe(reason);
      expect(server.requests).toBe(0);
    },
  );

  it('refuses a host that does not resolve', async () => {
    const admit = createJwksUriAdmission({ resolver: tableResolver({}) });
    const error = await refusal(admit('https://missing.example/jwks.json'));
    expect(error.reason).toBe('network');
  });
});
