import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { JWK } from 'jose';
import { JwksFetchError } from './jwks-errors.js';
import { DEFAULT_MAX_JWKS_KEYS, parseJwks } from './jwks-validation.js';
import {
  checkJwksUri,
  resolveAllowedAddresses,
  systemResolver,
  type JwksResolver,
} from './ssrf-policy.js';

/** Options of {@link JwksFetcher}. */
export interface JwksFetcherOptions {
  /**
   * Hosts whose `jwks_uri` may be plain http and resolve to non-public addresses (SPEC S1
   * `JWKS_URI_ALLOW_HOSTS`; development and tests).
   */
  readonly allowHosts?: readonly string[];
  /** Total time of one fetch (resolution, connection, headers and body), in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Body cap, in bytes. Default 65536. */
  readonly maxBytes?: number;
  /** Cap on keys in a fetched set. Default 100. */
  readonly maxKeys?: number;
  /** Resolves host names at connect time. Default: `dns.promises.lookup(host, {all: true})`. */
  readonly resolver?: JwksResolver;
}

/** A fetched and validated key set, with the caching directives of the response. */
export interface JwksFetchResult {
  /** The validated set: frozen keys usable for signature verification. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Freshness lifetime from `Cache-Control` (`max-age`, `s-maxage`: the smaller), in seconds. */
  readonly cacheControlMaxAge?: number;
  /** `Cache-Control: no-store` was present. */
  readonly noStore?: boolean;
  /** `Cache-Control: no-cache` was present. */
  readonly noCache?: boolean;
}

/** Defaults of {@link JwksFetcherOptions} (SPEC S6). */
export const JWKS_FETCH_DEFAULTS = {
  timeoutMs: 5000,
  maxBytes: 64 * 1024,
  maxKeys: DEFAULT_MAX_JWKS_KEYS,
} as const;

const ACCEPT = 'application/jwk-set+json, application/json';
const USER_AGENT = 'nestjs-client-auth';

/** Directives of a `Cache-Control` header that matter to a key set cache (RFC 9111 §5.2.2). */
export interface CacheDirectives {
  /** The smaller of `max-age` and `s-maxage`, in seconds. */
  readonly maxAge?: number;
  readonly noStore: boolean;
  readonly noCache: boolean;
}

/**
 * Parses a `Cache-Control` response header (RFC 9111 §5.2): `max-age`, `s-maxage` (the smaller
 * wins, being the more cautious), `no-store`, `no-cache`. Malformed values are ignored.
 */
export function parseCacheControl(header: string | undefined): CacheDirectives {
  let maxAge: number | undefined;
  let noStore = false;
  let noCache = false;
  for (const part of (header ?? '').split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value =
      eq < 0
        ? undefined
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    if (name === 'no-store') noStore = true;
    else if (name === 'no-cache') noCache = true;
    else if ((name === 'max-age' || name === 's-maxage') && value !== undefined) {
      // RFC 9111 §1.2.2: delta-seconds is 1*DIGIT.
      if (!/^\d+$/.test(value)) continue;
      const seconds = Math.min(Number(value), 2 ** 31);
      maxAge = maxAge === undefined ? seconds : Math.min(maxAge, seconds);
    }
  }
  return { ...(maxAge !== undefined && { maxAge }), noStore, noCache };
}

/** Whether a `Content-Type` is JSON: `application/json`, `application/jwk-set+json`, `…+json`. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9!#$&^_.+-]+\+json$/.test(essence);
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new RangeError(`${name} must be a positive integer`);
  return v;
}

/**
 * Fetches remote JWK Sets under the SPEC S6 rules:
 * - the URI passes {@link checkJwksUri} (https, no credentials or fragment, no metadata host,
 *   canonical public IP literals);
 * - host names are resolved **at connect time** by a `lookup` hook that checks every answer
 *   ({@link resolveAllowedAddresses}) and hands only checked addresses to the socket, so DNS
 *   rebinding cannot redirect the connection;
 * - no redirects, status 200 only, a JSON media type, a body cap (Content-Length checked up
 *   front, the stream aborted past it) and one deadline over resolution, connection, headers and
 *   body;
 * - the body is validated with {@link parseJwks} (keys that cannot verify signatures are skipped,
 *   RFC 7517 §5).
 * TLS certificates are verified as Node does by default. Throws {@link JwksFetchError}.
 *
 * @example
 * ```ts
 * const fetcher = new JwksFetcher({ timeoutMs: 5000 });
 * const { jwks, cacheControlMaxAge } = await fetcher.fetch('https://client.example.com/jwks.json');
 * ```
 */
export class JwksFetcher {
  readonly #allowHosts: readonly string[];
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxKeys: number;
  readonly #resolver: JwksResolver;

  constructor(options: JwksFetcherOptions = {}) {
    this.#allowHosts = Object.freeze([...(options.allowHosts ?? [])]);
    this.#timeoutMs = positiveInteger(
      'timeoutMs',
      options.timeoutMs,
      JWKS_FETCH_DEFAULTS.timeoutMs,
    );
    this.#maxBytes = positiveInteger('maxBytes', options.maxBytes, JWKS_FETCH_DEFAULTS.maxBytes);
    this.#maxKeys = positiveInteger('maxKeys', options.maxKeys, JWKS_FETCH_DEFAULTS.maxKeys);
    this.#resolver = options.resolver ?? systemResolver;
  }

  /** Fetches and validates the key set at `uri`. */
  async fetch(uri: string): Promise<JwksFetchResult> {
    const url = checkJwksUri(uri, { allowHosts: this.#allowHosts });
    const { body, cacheControl } = await this.#get(url);
    let text: string;
    let value: unknown;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
      value = JSON.parse(text);
    } catch {
      throw new JwksFetchError('invalid_json', `jwks_uri ${url.origin} did not answer valid JSON`);
    }
    const keys = parseJwks(value, { maxKeys: this.#maxKeys, ignoreUnusableKeys: true });
    const directives = parseCacheControl(cacheControl);
    return {
      jwks: Object.freeze({ keys }),
      ...(directives.maxAge !== undefined && { cacheControlMaxAge: directives.maxAge }),
      ...(directives.noStore && { noStore: true }),
      ...(directives.noCache && { noCache: true }),
    };
  }

  /**
   * Fetches a JSON document — an issuer's discovery document (SPEC S9) — under the same rules
   * as a key set: the URL and every address checked at connect time, no redirects, a JSON media
   * type, the size and time caps.
   */
  async fetchJson(uri: string): Promise<unknown> {
    const url = checkJwksUri(uri, { allowHosts: this.#allowHosts });
    const { body } = await this.#get(url);
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
    } catch {
      throw new JwksFetchError('invalid_json', `${url.origin} did not answer valid JSON`);
    }
  }

  /** The connect-time check: resolve, check every answer, connect only to checked addresses. */
  #lookup(): LookupFunction {
    const policy = { allowHosts: this.#allowHosts };
    return (hostname, options, callback) => {
      resolveAllowedAddresses(hostname, policy, this.#resolver).then(
        (checked) => {
          const wanted =
            options.family === 4 || options.family === 6
              ? checked.filter((a) => a.family === options.family)
              : checked;
          if (wanted.length === 0) {
            callback(
              new JwksFetchError('network', `jwks_uri host ${hostname} has no usable address`),
              '',
            );
          } else if (options.all) {
            callback(null, wanted);
          } else {
            callback(null, wanted[0]!.address, wanted[0]!.family);
          }
        },
        (error: Error) => callback(error, ''),
      );
    };
  }

  #get(url: URL): Promise<{ body: Buffer; cacheControl?: string }> {
    const origin = url.origin;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      const chunks: Buffer[] = [];
      let received = 0;

      const fail = (error: JwksFetchError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
        req.destroy();
      };

      const onResponse = (res: IncomingMessage) => {
        res.on('error', () => fail(new JwksFetchError('network', `jwks_uri ${origin} aborted`)));
        const status = res.statusCode ?? 0;
        // SPEC S6: redirects are never followed (the target was not checked).
        if (status >= 300 && status < 400) {
          return fail(
            new JwksFetchError(
              'redirect_refused',
              `jwks_uri ${origin} answered ${status}; redirects are not followed`,
            ),
          );
        }
        if (status !== 200) {
          return fail(new JwksFetchError('http_status', `jwks_uri ${origin} answered ${status}`));
        }
        const contentType = res.headers['content-type'];
        if (!isJsonMediaType(contentType)) {
          return fail(
            new JwksFetchError(
              'media_type',
              `jwks_uri ${origin} answered ${JSON.stringify((contentType ?? 'no content type').slice(0, 100))}, not JSON`,
            ),
          );
        }
        const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
        if (encoding !== 'identity') {
          return fail(
            new JwksFetchError('media_type', `jwks_uri ${origin} answered an encoded body`),
          );
        }
        const tooLarge = () =>
          new JwksFetchError(
            'too_large',
            `jwks_uri ${origin} body exceeds ${this.#maxBytes} bytes`,
          );
        const declared = res.headers['content-length'];
        if (declared !== undefined && Number(declared) > this.#maxBytes) return fail(tooLarge());
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > this.#maxBytes) return fail(tooLarge());
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            body: Buffer.concat(chunks),
            ...(typeof res.headers['cache-control'] === 'string' && {
              cacheControl: res.headers['cache-control'],
            }),
          });
        });
      };

      const req = transport.request(
        url,
        {
          method: 'GET',
          // A private agent per fetch: no pooled socket outlives the connect-time check.
          agent: false,
          lookup: this.#lookup(),
          headers: { accept: ACCEPT, 'accept-encoding': 'identity', 'user-agent': USER_AGENT },
        },
        onResponse,
      );
      // SPEC S6: one deadline over resolution, connection, headers and body (a slow drip fails).
      const timer = setTimeout(
        () =>
          fail(
            new JwksFetchError(
              'timeout',
              `jwks_uri ${origin} took longer than ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
      req.on('error', (error: Error) => {
        if (error instanceof JwksFetchError) return fail(error);
        const code = (error as NodeJS.ErrnoException).code;
        fail(
          new JwksFetchError(
            'network',
            `jwks_uri ${origin} could not be fetched${code ? ` (${code})` : ''}`,
            { cause: error },
          ),
        );
      });
      req.end();
    });
  }
}

/**
 * Fetches and validates one remote key set with a one-off {@link JwksFetcher}.
 *
 * @example
 * ```ts
 * const { jwks } = await fetchJwks('https://client.example.com/jwks.json');
 * ```
 */
export function fetchJwks(uri: string, options?: JwksFetcherOptions): Promise<JwksFetchResult> {
  return new JwksFetcher(options).fetch(uri);
}
