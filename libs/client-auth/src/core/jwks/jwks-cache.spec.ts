import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { JWK } from 'jose';
import { JwksCache, type JwksCacheOptions } from './jwks-cache.js';
import { JwksFetchError } from './jwks-errors.js';
import type { JwksFetchResult } from './jwks-fetcher.js';

/** What the loopback server answers at one path. */
interface Route {
  status?: number;
  body?: unknown;
  cacheControl?: string;
  delayMs?: number;
}

const ecJwk = (kid: string) => ({
  ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    format: 'jwk',
  }) as JWK),
  kid,
});
const keyA = ecJwk('a');
const keyB = ecJwk('b');
const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  format: 'jwk',
});

let server: Server;
let base: string;
const routes = new Map<string, Route>();
const served = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    served.set(path, (served.get(path) ?? 0) + 1);
    const route = routes.get(path) ?? { status: 404 };
    setTimeout(() => {
      res.writeHead(route.status ?? 200, {
        'content-type': 'application/json',
        ...(route.cacheControl && { 'cache-control': route.cacheControl }),
      });
      res.end(JSON.stringify(route.body ?? {}));
    }, route.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let nextPath = 0;
/** A fresh URL on the loopback server (so tests do not share counters), answering `route`. */
function endpoint(route: Route): { uri: string; path: string; count: () => number } {
  const path = `/jwks/${nextPath++}`;
  routes.set(path, route);
  return { uri: `${base}${path}`, path, count: () => served.get(path) ?? 0 };
}

/** A manual clock. */
function clock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (seconds: number) => {
      t += seconds * 1000;
    },
  };
}

function cache(time: ReturnType<typeof clock>, options: JwksCacheOptions = {}): JwksCache {
  return new JwksCache({ now: time.now, fetch: { allowHosts: ['127.0.0.1'] }, ...options });
}

describe('JwksCache', () => {
  it('serves a fresh set without refetching, as the same snapshot and JWK objects', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time);
    const first = await keySets.get(site.uri);
    expect(first.keys).toEqual([keyA]);
    expect(first.fetchedAt).toBe(time.now());
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.keys)).toBe(true);
    time.advance(299);
    const second = await keySets.get(site.uri);
    expect(second).toBe(first);
    expect(second.keys[0]).toBe(first.keys[0]);
    expect(site.count()).toBe(1);
    expect(keySets.stats()).toMatchObject({ entries: 1, fetches: 1, hits: 1, misses: 1 });
  });

  it.each([
    ['no Cache-Control: the ceiling', undefined, 300],
    ['max-age below the floor', 'max-age=10', 60],
    ['max-age above the ceiling', 'max-age=86400', 300],
    ['max-age within the bounds', 'max-age=120', 120],
    ['s-maxage smaller than max-age', 'max-age=200, s-maxage=90', 90],
    ['no-store: the floor', 'no-store', 60],
    ['no-cache: the floor', 'no-cache', 60],
  ])('honours %s (%s → %is)', async (_label, cacheControl, ttl) => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] }, ...(cacheControl && { cacheControl }) });
    const keySets = cache(time);
    const first = await keySets.get(site.uri);
    time.advance(ttl - 1);
    expect(await keySets.get(site.uri)).toBe(first);
    expect(site.count()).toBe(1);
    time.advance(1);
    expect(await keySets.get(site.uri)).not.toBe(first);
    expect(site.count()).toBe(2);
  });

  it('applies configured floor and ceiling', async () => {
    const time = clock();
    const short = endpoint({ body: { keys: [keyA] }, cacheControl: 'max-age=1' });
    const long = endpoint({ body: { keys: [keyA] }, cacheControl: 'max-age=3600' });
    const keySets = cache(time, { minTtlSeconds: 5, maxTtlSeconds: 10, cooldownSeconds: 0 });
    await keySets.get(short.uri);
    await keySets.get(long.uri);
    time.advance(4);
    await keySets.get(short.uri);
    expect(short.count()).toBe(1);
    time.advance(1);
    await keySets.get(short.uri);
    expect(short.count()).toBe(2);
    time.advance(5);
    await keySets.get(long.uri);
    expect(long.count()).toBe(2);
  });

  it('never fetches more than once per cooldown, even when the floor is shorter', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] }, cacheControl: 'max-age=0' });
    const keySets = cache(time, { minTtlSeconds: 0, cooldownSeconds: 30 });
    const first = await keySets.get(site.uri);
    time.advance(29);
    expect(await keySets.get(site.uri)).toBe(first);
    expect(site.count()).toBe(1);
    time.advance(1);
    await keySets.get(site.uri);
    expect(site.count()).toBe(2);
  });

  it('keeps unchanged JWK objects across a refetch (imported keys stay cached)', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time);
    const first = await keySets.get(site.uri);
    routes.set(site.path, { body: { keys: [keyA, keyB] } });
    time.advance(300);
    const second = await keySets.get(site.uri);
    expect(second).not.toBe(first);
    expect(second.keys).toHaveLength(2);
    expect(second.keys[0]).toBe(first.keys[0]);
  });

  it('collapses concurrent gets into one fetch', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] }, delayMs: 50 });
    const keySets = cache(time);
    const results = await Promise.all(Array.from({ length: 20 }, () => keySets.get(site.uri)));
    expect(site.count()).toBe(1);
    for (const snapshot of results) expect(snapshot).toBe(results[0]);
    // A refresh while a fetch is in flight joins it too.
    time.advance(300);
    const [a, b, c] = await Promise.all([
      keySets.get(site.uri),
      keySets.refresh(site.uri),
      keySets.get(site.uri),
    ]);
    expect(site.count()).toBe(2);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(keySets.stats()).toMatchObject({ fetches: 2, collapsed: 21 });
  });

  it('refresh refetches at most once per cooldown', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time);
    const first = await keySets.get(site.uri);
    expect(await keySets.refresh(site.uri)).toBeUndefined();
    time.advance(29);
    expect(await keySets.refresh(site.uri)).toBeUndefined();
    expect(site.count()).toBe(1);
    routes.set(site.path, { body: { keys: [keyA, keyB] } });
    time.advance(1);
    const fresh = await keySets.refresh(site.uri);
    expect(fresh?.keys.map((k) => k.kid)).toEqual(['a', 'b']);
    expect(site.count()).toBe(2);
    // The refreshed set is what get() serves from now on.
    expect(await keySets.get(site.uri)).toBe(fresh);
    expect(fresh).not.toBe(first);
    expect(await keySets.refresh(site.uri)).toBeUndefined();
  });

  it('refresh of an unknown URL fetches it', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time);
    await expect(keySets.refresh(site.uri)).resolves.toMatchObject({ keys: [keyA] });
    expect(site.count()).toBe(1);
  });

  it('serves the stale set while refetches fail, within maxStaleSeconds, and not after', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time, { maxStaleSeconds: 600 });
    const first = await keySets.get(site.uri);
    routes.set(site.path, { status: 500 });

    time.advance(300); // expired
    expect(await keySets.get(site.uri)).toBe(first);
    expect(site.count()).toBe(2);
    time.advance(10); // within the cooldown: no new fetch
    expect(await keySets.get(site.uri)).toBe(first);
    expect(site.count()).toBe(2);
    time.advance(590); // 600 s after expiry: still within the bound
    expect(await keySets.get(site.uri)).toBe(first);
    expect(site.count()).toBe(3);

    time.advance(31); // beyond the bound
    await expect(keySets.get(site.uri)).rejects.toMatchObject({ reason: 'http_status' });
    expect(site.count()).toBe(4);
    expect(keySets.stats()).toMatchObject({ errors: 3, staleServed: 3 });

    routes.set(site.path, { body: { keys: [keyB] } });
    time.advance(30);
    await expect(keySets.get(site.uri)).resolves.toMatchObject({ keys: [keyB] });
  });

  it('serves the current set when a refresh fails', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time);
    const first = await keySets.get(site.uri);
    routes.set(site.path, { status: 503 });
    time.advance(30);
    expect(await keySets.refresh(site.uri)).toBe(first);
    expect(site.count()).toBe(2);
  });

  it('does not hammer a failing URL: the error is rethrown within the cooldown', async () => {
    const time = clock();
    const site = endpoint({ status: 500 });
    const keySets = cache(time);
    const error = await keySets.get(site.uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JwksFetchError);
    time.advance(29);
    await expect(keySets.get(site.uri)).rejects.toBe(error);
    expect(await keySets.refresh(site.uri)).toBeUndefined();
    expect(site.count()).toBe(1);
    time.advance(1);
    await expect(keySets.get(site.uri)).rejects.toMatchObject({ reason: 'http_status' });
    expect(site.count()).toBe(2);
  });

  it('never caches an invalid set', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [privateKey] } });
    const keySets = cache(time);
    await expect(keySets.get(site.uri)).rejects.toMatchObject({ reason: 'invalid_jwks' });

    routes.set(site.path, { body: { keys: [keyA] } });
    time.advance(30);
    const good = await keySets.get(site.uri);
    expect(good.keys).toEqual([keyA]);

    // An invalid refetch does not replace the valid set.
    routes.set(site.path, { body: { keys: [keyA, { kty: 'oct', k: 'c2VjcmV0' }] } });
    time.advance(300);
    expect(await keySets.get(site.uri)).toBe(good);
    time.advance(30);
    expect(await keySets.refresh(site.uri)).toBe(good);
    expect(site.count()).toBe(4);
  });

  it('validates what a custom fetcher returns', async () => {
    const time = clock();
    const fetcher = async (): Promise<JwksFetchResult> => ({
      jwks: { keys: [privateKey as JWK] },
    });
    const keySets = new JwksCache({ now: time.now, fetcher });
    await expect(keySets.get('https://client.example.com/jwks')).rejects.toMatchObject({
      reason: 'invalid_jwks',
    });
  });

  it('recovers from a fetcher that throws synchronously', async () => {
    const time = clock();
    let calls = 0;
    const keySets = new JwksCache({
      now: time.now,
      fetcher: (): Promise<JwksFetchResult> => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return Promise.resolve({ jwks: { keys: [keyA] } });
      },
    });
    await expect(keySets.get('https://client.example.com/jwks')).rejects.toThrow('boom');
    time.advance(30);
    await expect(keySets.get('https://client.example.com/jwks')).resolves.toMatchObject({
      keys: [keyA],
    });
  });

  it('is bounded in entries, evicting the least recently used URL', async () => {
    const time = clock();
    const [a, b, c] = [0, 1, 2].map(() => endpoint({ body: { keys: [keyA] } }));
    const keySets = cache(time, { maxEntries: 2 });
    await keySets.get(a!.uri);
    await keySets.get(b!.uri);
    await keySets.get(a!.uri); // a is now the most recently used
    await keySets.get(c!.uri); // evicts b
    expect(keySets.stats()).toMatchObject({ entries: 2, evictions: 1 });
    await keySets.get(a!.uri);
    expect(a!.count()).toBe(1);
    await keySets.get(b!.uri); // refetched, evicts c
    expect(b!.count()).toBe(2);
    await keySets.get(c!.uri);
    expect(c!.count()).toBe(2);
  });

  it('delete and clear forget URLs', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = cache(time);
    await keySets.get(site.uri);
    expect(keySets.delete(site.uri)).toBe(true);
    await keySets.get(site.uri);
    keySets.clear();
    await keySets.get(site.uri);
    expect(site.count()).toBe(3);
  });

  it('refuses URLs the SSRF policy refuses, without a request', async () => {
    const time = clock();
    const site = endpoint({ body: { keys: [keyA] } });
    const keySets = new JwksCache({ now: time.now });
    await expect(keySets.get(site.uri)).rejects.toMatchObject({ reason: 'scheme_not_https' });
    expect(site.count()).toBe(0);
  });

  it.each<JwksCacheOptions>([
    { minTtlSeconds: -1 },
    { maxTtlSeconds: Number.NaN },
    { minTtlSeconds: 400, maxTtlSeconds: 300 },
    { cooldownSeconds: -5 },
    { maxStaleSeconds: Number.POSITIVE_INFINITY },
    { maxEntries: 0 },
  ])('refuses option %j', (options) => {
    expect(() => new JwksCache(options)).toThrow(RangeError);
  });
});
