import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { JWK } from 'jose';
import { JwksFetchError } from './jwks-errors.js';
import {
  JwksFetcher,
  fetchJwks,
  isJsonMediaType,
  parseCacheControl,
  type JwksFetcherOptions,
} from './jwks-fetcher.js';
import { admitJwksUri, type JwksResolver } from './ssrf-policy.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server whose handler each test sets; counts connections and requests. */
class TestServer {
  handler: Handler = (_req, res) => res.end();
  connections = 0;
  requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  readonly #server: Server = createServer((req, res) => {
    this.requests.push({ url: req.url ?? '', headers: req.headers });
    this.handler(req, res);
  });

  async start(): Promise<this> {
    this.#server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path = '/jwks', host = '127.0.0.1', scheme = 'http'): string {
    return `${scheme}://${host}:${this.port}${path}`;
  }

  reset(handler: Handler): void {
    this.handler = handler;
    this.connections = 0;
    this.requests = [];
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const jwkOf = (key: KeyObject) => key.export({ format: 'jwk' }) as JWK;
const ecKey = { ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), kid: 'ec' };
const ecPrivate = { ...jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) };
const rsa1024 = jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);

function json(body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** A resolver answering from scripted lists, one list per successive lookup of a name. */
function scriptedResolver(answers: Record<string, string[][]>): JwksResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver: JwksResolver = async (hostname) => {
    const turn = calls.filter((c) => c === hostname).length;
    calls.push(hostname);
    const list = answers[hostname];
    const addresses = list?.[Math.min(turn, list.length - 1)];
    if (!addresses) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({
      address,
      family: (address.includes(':') ? 6 : 4) as 4 | 6,
    }));
  };
  return Object.assign(resolver, { calls });
}

async function failure(promise: Promise<unknown>): Promise<JwksFetchError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the fetch to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JwksFetchError);
  return error as JwksFetchError;
}

describe('JwksFetcher', () => {
  let server: TestServer;
  let target: TestServer;
  const local: JwksFetcherOptions = { allowHosts: ['127.0.0.1'] };

  beforeAll(async () => {
    server = await new TestServer().start();
    target = await new TestServer().start();
  });

  afterAll(async () => {
    await server.stop();
    await target.stop();
  });

  describe('a valid set', () => {
    it('is fetched, validated and returned with its caching directives', async () => {
      server.reset(json({ keys: [ecKey] }, { 'cache-control': 'public, max-age=120' }));
      const result = await new JwksFetcher(local).fetch(server.url());
      expect(result.jwks.keys).toEqual([ecKey]);
      expect(Object.isFrozen(result.jwks.keys[0])).toBe(true);
      expect(result.cacheControlMaxAge).toBe(120);
      expect(result.noStore).toBeUndefined();
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.url).toBe('/jwks');
      expect(server.requests[0]!.headers.accept).toBe('application/jwk-set+json, application/json');
    });

    it.each([
      'application/jwk-set+json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/vnd.example+json',
    ])('is accepted as %s', async (contentType) => {
      server.reset(json({ keys: [ecKey] }, { 'content-type': contentType }));
      await expect(fetchJwks(server.url(), local)).resolves.toMatchObject({
        jwks: { keys: [ecKey] },
      });
    });

    it('skips keys that cannot verify signatures (RFC 7517 §5)', async () => {
      server.reset(json({ keys: [{ ...ecKey, kid: 'enc', use: 'enc' }, ecKey] }));
      const { jwks } = await fetchJwks(server.url(), local);
      expect(jwks.keys.map((k) => k.kid)).toEqual(['ec']);
    });

    it('reports no-store and no-cache', async () => {
      server.reset(json({ keys: [] }, { 'cache-control': 'no-store, no-cache' }));
      await expect(fetchJwks(server.url(), local)).resolves.toEqual({
        jwks: { keys: [] },
        noStore: true,
        noCache: true,
      });
    });

    it('connects to the address the resolver gave for an allow-listed name', async () => {
      server.reset(json({ keys: [ecKey] }));
      const resolver = scriptedResolver({ 'jwks.example.test': [['127.0.0.1']] });
      const fetcher = new JwksFetcher({ allowHosts: ['jwks.example.test'], resolver });
      const result = await fetcher.fetch(server.url('/jwks', 'jwks.example.test'));
      expect(result.jwks.keys).toEqual([ecKey]);
      expect(resolver.calls).toEqual(['jwks.example.test']);
      expect(server.requests[0]!.headers.host).toBe(`jwks.example.test:${server.port}`);
    });
  });

  describe('SSRF policy at connect time', () => {
    it.each([
      [['127.0.0.1'], 'address_not_public'],
      [['::1'], 'address_not_public'],
      [['10.0.0.1'], 'address_not_public'],
      [['192.168.1.20'], 'address_not_public'],
      [['169.254.10.10'], 'address_not_public'],
      [['fe80::1'], 'address_not_public'],
      [['::ffff:127.0.0.1'], 'address_not_public'],
      [['100.64.0.1'], 'address_not_public'],
      [['93.184.216.34', '127.0.0.1'], 'address_not_public'],
      [['169.254.169.254'], 'metadata_host'],
      [['::ffff:a9fe:a9fe'], 'metadata_host'],
    ])(
      'refuses a name resolving to %j (%s); the server sees no connection',
      async (answers, reason) => {
        server.reset(json({ keys: [ecKey] }));
        const resolver = scriptedResolver({ 'jwks.example.com': [answers] });
        const fetcher = new JwksFetcher({ resolver, timeoutMs: 2000 });
        const error = await failure(
          fetcher.fetch(server.url('/jwks', 'jwks.example.com', 'https')),
        );
        expect(error.reason).toBe(reason);
        expect(resolver.calls).toEqual(['jwks.example.com']);
        expect(server.connections).toBe(0);
      },
    );

    it('refuses a name that rebinds to loopback after admission (DNS rebinding)', async () => {
      server.reset(json({ keys: [ecKey] }));
      const resolver = scriptedResolver({
        'rebind.example.com': [['93.184.216.34'], ['127.0.0.1']],
      });
      const uri = server.url('/jwks', 'rebind.example.com', 'https');
      // Admission (registration) sees a public address…
      await expect(admitJwksUri(uri, { resolver })).resolves.toBeInstanceOf(URL);
      // …the fetch resolves again at connect time and refuses the new answer.
      const error = await failure(new JwksFetcher({ resolver }).fetch(uri));
      expect(error.reason).toBe('address_not_public');
      expect(error.message).not.toContain('127.0.0.1');
      expect(resolver.calls).toEqual(['rebind.example.com', 'rebind.example.com']);
      expect(server.connections).toBe(0);
    });

    it.each([
      [
        'plain http to a host that is not allow-listed',
        (s: TestServer) => s.url(),
        'scheme_not_https',
      ],
      [
        'a loopback literal',
        (s: TestServer) => s.url('/jwks', '127.0.0.1', 'https'),
        'address_not_public',
      ],
      [
        'a decimal IPv4 literal',
        (s: TestServer) => s.url('/jwks', '2130706433', 'https'),
        'address_not_public',
      ],
      [
        'a metadata name',
        (s: TestServer) => s.url('/', 'metadata.google.internal', 'https'),
        'metadata_host',
      ],
      [
        'credentials',
        (s: TestServer) => s.url('/jwks', 'a:b@jwks.example.com', 'https'),
        'credentials_in_uri',
      ],
    ])('refuses %s before resolving or connecting', async (_label, uri, reason) => {
      server.reset(json({ keys: [ecKey] }));
      const resolver = scriptedResolver({});
      const error = await failure(new JwksFetcher({ resolver }).fetch(uri(server)));
      expect(error.reason).toBe(reason);
      expect(resolver.calls).toEqual([]);
      expect(server.connections).toBe(0);
    });
  });

  describe('responses that are refused', () => {
    it('does not follow a redirect; the target sees no request', async () => {
      target.reset(json({ keys: [ecKey] }));
      server.reset((_req, res) => {
        res.writeHead(302, { location: target.url() });
        res.end();
      });
      const error = await failure(fetchJwks(server.url(), local));
      expect(error.reason).toBe('redirect_refused');
      expect(error.message).toBe(
        `jwks_uri http://127.0.0.1:${server.port} answered 302; redirects are not followed`,
      );
      expect(target.connections).toBe(0);
    });

    it.each([404, 500, 204, 201])('refuses status %i', async (status) => {
      server.reset((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 204 ? undefined : JSON.stringify({ keys: [ecKey] }));
      });
      const error = await failure(fetchJwks(server.url(), local));
      expect(error.reason).toBe('http_status');
      expect(error.message).toContain(`answered ${status}`);
    });

    it.each(['text/html', 'text/plain', 'application/octet-stream', 'application/jsonp'])(
      'refuses media type %s',
      async (contentType) => {
        server.reset(json({ keys: [ecKey] }, { 'content-type': contentType }));
        expect((await failure(fetchJwks(server.url(), local))).reason).toBe('media_type');
      },
    );

    it('refuses a response without a content type', async () => {
      server.reset((_req, res) => res.end(JSON.stringify({ keys: [] })));
      expect((await failure(fetchJwks(server.url(), local))).reason).toBe('media_type');
    });

    it('refuses an encoded body', async () => {
      server.reset(json({ keys: [] }, { 'content-encoding': 'gzip' }));
      expect((await failure(fetchJwks(server.url(), local))).reason).toBe('media_type');
    });

    it('refuses a body whose Content-Length exceeds the cap, before reading it', async () => {
      const body = JSON.stringify({ keys: [], pad: 'x'.repeat(70 * 1024) });
      server.reset(json(body, { 'content-length': String(Buffer.byteLength(body)) }));
      const error = await failure(fetchJwks(server.url(), local));
      expect(error.reason).toBe('too_large');
      expect(error.message).toContain('65536 bytes');
    });

    it('aborts a streamed body without Content-Length once it exceeds the cap', async () => {
      let written = 0;
      let closedEarly = false;
      server.reset((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.on('close', () => (closedEarly = !res.writableFinished));
        res.write('{"keys":[],"pad":"');
        const pump = () => {
          if (res.destroyed) return;
          if (written >= 1024 * 1024) return res.end('"}');
          written += 4096;
          res.write('x'.repeat(4096), () => setImmediate(pump));
        };
        pump();
      });
      const error = await failure(fetchJwks(server.url(), { ...local, maxBytes: 16 * 1024 }));
      expect(error.reason).toBe('too_large');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closedEarly).toBe(true);
      expect(written).toBeLessThan(1024 * 1024);
    });

    it('times out a body that drips slowly', async () => {
      const timers: NodeJS.Timeout[] = [];
      server.reset((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
        const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(' ')), 50);
        timers.push(drip);
      });
      const started = Date.now();
      const error = await failure(fetchJwks(server.url(), { ...local, timeoutMs: 300 }));
      timers.forEach(clearInterval);
      expect(error.reason).toBe('timeout');
      expect(error.message).toContain('300 ms');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('times out a server that never answers', async () => {
      server.reset(() => undefined);
      const error = await failure(fetchJwks(server.url(), { ...local, timeoutMs: 300 }));
      expect(error.reason).toBe('timeout');
    });

    it('answers network when nothing listens', async () => {
      const closed = await new TestServer().start();
      const uri = closed.url();
      await closed.stop();
      expect((await failure(fetchJwks(uri, local))).reason).toBe('network');
    });

    it.each([
      ['not JSON', '{"keys": [', 'invalid_json'],
      ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid_json'],
      ['JSON that is not a set', '[1,2]', 'invalid_jwks'],
      ['a private key', JSON.stringify({ keys: [ecPrivate] }), 'invalid_jwks'],
      ['an RSA 1024 key', JSON.stringify({ keys: [rsa1024] }), 'invalid_jwks'],
    ])('refuses %s', async (_label, body, reason) => {
      server.reset((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      });
      const error = await failure(fetchJwks(server.url(), local));
      expect(error.reason).toBe(reason);
      expect(error.message).not.toContain(String(ecPrivate.d));
    });

    it('caps the number of keys', async () => {
      const keys = Array.from({ length: 3 }, (_, i) => ({ ...ecKey, kid: `k${i}` }));
      server.reset(json({ keys }));
      const error = await failure(fetchJwks(server.url(), { ...local, maxKeys: 2 }));
      expect(error.reason).toBe('invalid_jwks');
    });
  });

  it.each([{ timeoutMs: 0 }, { maxBytes: -1 }, { maxKeys: 1.5 }])(
    'refuses option %j',
    (options) => {
      expect(() => new JwksFetcher(options)).toThrow(RangeError);
    },
  );
});

describe('parseCacheControl', () => {
  it.each<[string | undefined, ReturnType<typeof parseCacheControl>]>([
    [undefined, { noStore: false, noCache: false }],
    ['max-age=600', { maxAge: 600, noStore: false, noCache: false }],
    ['public, MAX-AGE=60, must-revalidate', { maxAge: 60, noStore: false, noCache: false }],
    ['max-age="90"', { maxAge: 90, noStore: false, noCache: false }],
    ['max-age=600, s-maxage=120', { maxAge: 120, noStore: false, noCache: false }],
    ['s-maxage=30', { maxAge: 30, noStore: false, noCache: false }],
    ['max-age=-1', { noStore: false, noCache: false }],
    ['max-age=abc', { noStore: false, noCache: false }],
    ['max-age', { noStore: false, noCache: false }],
    ['no-store', { noStore: true, noCache: false }],
    ['no-cache, max-age=0', { maxAge: 0, noStore: false, noCache: true }],
    ['private, no-cache="set-cookie"', { noStore: false, noCache: true }],
  ])('%j', (header, expected) => {
    expect(parseCacheControl(header)).toEqual(expected);
  });
});

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['application/jwk-set+json; charset=utf-8', true],
    ['application/problem+json', true],
    [' application/json ', true],
    ['text/json', false],
    ['application/json-seq', false],
    ['application/+json', false],
    [undefined, false],
  ])('%j → %s', (contentType, expected) => {
    expect(isJsonMediaType(contentType)).toBe(expected);
  });
});
