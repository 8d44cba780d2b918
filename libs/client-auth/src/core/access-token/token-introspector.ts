import { createHash } from 'node:crypto';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE } from '../options.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import {
  readBodyCapped,
  timeoutSignal,
  urlProblem,
  type FetchFunction,
} from '../token-client/http.js';

/** What a client assertion callback is told about the introspection request it authenticates. */
export interface IntrospectionAssertionContext {
  /** The resource server's `client_id`: `iss` and `sub` of the assertion (RFC 7523 §3). */
  readonly clientId: string;
  /** The authorization server's issuer identifier: the `aud` draft-ietf-oauth-rfc7523bis asks for. */
  readonly issuer: string;
  /** The introspection endpoint the assertion is sent to. */
  readonly endpoint: string;
}

/** Options of {@link TokenIntrospector} (RFC 7662). */
export interface TokenIntrospectionOptions {
  /** The introspection endpoint (`https`; plain `http` only on loopback or with `allowInsecureHttp`). */
  readonly endpoint: string;
  /** The resource server's own `client_id` at the authorization server. */
  readonly clientId: string;
  /** A secret sent with `client_secret_basic` (RFC 6749 §2.3.1). Exclusive with `clientAssertion`. */
  readonly clientSecret?: string;
  /**
   * Returns a fresh client assertion for each request (`private_key_jwt` / `client_secret_jwt`,
   * RFC 7523 §2.2), e.g. from a `ClientAssertionSigner`. Exclusive with `clientSecret`.
   */
  readonly clientAssertion?: (context: IntrospectionAssertionContext) => string | Promise<string>;
  /** Sent as `token_type_hint` (RFC 7662 §2.1). Default `access_token`; `null` sends none. */
  readonly tokenTypeHint?: string | null;
  /** Default: the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** Per-request timeout, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Accept a plain-http endpoint on a non-loopback host (development only). Default false. */
  readonly allowInsecureHttp?: boolean;
  /** Largest answer read, in bytes. Default 65536. */
  readonly maxResponseBytes?: number;
  /**
   * How long an active answer is reused, in seconds; never past the token's `exp`. Default 60;
   * 0 disables caching.
   */
  readonly cacheTtlSeconds?: number;
  /** How long an inactive answer is reused, in seconds (at most 10). Default 3. */
  readonly negativeCacheTtlSeconds?: number;
  /** Bound on cached answers (least recently used evicted first). Default 1000. */
  readonly maxCacheEntries?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** Defaults of {@link TokenIntrospectionOptions}. */
export const TOKEN_INTROSPECTION_DEFAULTS = {
  tokenTypeHint: 'access_token',
  timeoutMs: 5000,
  maxResponseBytes: 64 * 1024,
  cacheTtlSeconds: 60,
  negativeCacheTtlSeconds: 3,
  maxCacheEntries: 1000,
} as const;

/** Longest an inactive answer may be cached, in seconds (SPEC S8: negative results only briefly). */
export const MAX_NEGATIVE_CACHE_TTL_SECONDS = 10;

/** An introspection answer (RFC 7662 §2.2): `active`, and for an active token its members. */
export interface IntrospectionResponse {
  readonly active: boolean;
  readonly [member: string]: unknown;
}

/** Counters of a {@link TokenIntrospector}, for metrics. */
export interface TokenIntrospectorStats {
  /** Requests sent to the endpoint. */
  readonly requests: number;
  /** Answers served from the cache. */
  readonly hits: number;
  /** Callers that joined a request already in flight for the same token. */
  readonly collapsed: number;
  /** Requests that failed (network, status, malformed answer). */
  readonly errors: number;
  /** Answers currently cached. */
  readonly entries: number;
}

/** The endpoint could not give an answer (network, timeout, status, malformed body). */
export class IntrospectionError extends Error {
  /** HTTP status of the answer, when one was received. */
  readonly status?: number;

  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'IntrospectionError';
    if (options?.status !== undefined) this.status = options.status;
  }
}

interface Entry {
  readonly response: IntrospectionResponse;
  readonly expiresAt: number;
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function basicCredentials(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ClientAuthConfigurationError(`introspection ${name} must be a non-negative number`);
  }
  return v;
}

/**
 * Asks an authorization server about opaque tokens (RFC 7662): `POST` to the introspection
 * endpoint with `token` (and `token_type_hint`), authenticated as a client — `client_secret_basic`
 * or a client assertion from a callback (RFC 7662 §2.1 requires authentication). Answers are
 * cached by a SHA-256 digest of the token (the token itself is never kept):
 * - an active answer until the earlier of its `exp` and `cacheTtlSeconds`;
 * - an inactive answer for `negativeCacheTtlSeconds` only (at most 10 s);
 * - failures are never cached; concurrent requests for one token share one call;
 * - at most `maxCacheEntries` answers, least recently used evicted first.
 * Throws {@link IntrospectionError} when no answer could be had.
 *
 * @example
 * ```ts
 * const introspector = new TokenIntrospector({
 *   endpoint: 'https://auth.example.com/oauth/introspect',
 *   clientId: 'reports-api',
 *   clientSecret: process.env.INTROSPECTION_SECRET,
 * }, 'https://auth.example.com');
 * const { active } = await introspector.introspect(token);
 * ```
 */
export class TokenIntrospector {
  readonly #options: TokenIntrospectionOptions;
  readonly #issuer: string;
  readonly #fetch: FetchFunction;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxEntries: number;
  /** Insertion order is recency order. */
  readonly #cache = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<IntrospectionResponse>>();
  readonly #counters = { requests: 0, hits: 0, collapsed: 0, errors: 0 };

  /**
   * @param options the endpoint, the client credentials and the cache settings.
   * @param issuer the authorization server's issuer identifier, handed to `clientAssertion`.
   */
  constructor(options: TokenIntrospectionOptions, issuer: string) {
    const problem = urlProblem(options.endpoint, options.allowInsecureHttp ?? false);
    if (problem) {
      throw new ClientAuthConfigurationError(`the introspection endpoint ${problem}`);
    }
    if (typeof options.clientId !== 'string' || options.clientId === '') {
      throw new ClientAuthConfigurationError('introspection needs the resource server clientId');
    }
    if ((options.clientSecret === undefined) === (options.clientAssertion === undefined)) {
      throw new ClientAuthConfigurationError(
        'introspection needs exactly one of clientSecret and clientAssertion (RFC 7662 §2.1)',
      );
    }
    const d = TOKEN_INTROSPECTION_DEFAULTS;
    this.#ttlMs = nonNegative('cacheTtlSeconds', options.cacheTtlSeconds, d.cacheTtlSeconds) * 1000;
    const negative = nonNegative(
      'negativeCacheTtlSeconds',
      options.negativeCacheTtlSeconds,
      d.negativeCacheTtlSeconds,
    );
    if (negative > MAX_NEGATIVE_CACHE_TTL_SECONDS) {
      throw new ClientAuthConfigurationError(
        `negativeCacheTtlSeconds must not exceed ${MAX_NEGATIVE_CACHE_TTL_SECONDS}`,
      );
    }
    this.#negativeTtlMs = negative * 1000;
    this.#maxEntries = options.maxCacheEntries ?? d.maxCacheEntries;
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new ClientAuthConfigurationError('maxCacheEntries must be a positive integer');
    }
    this.#options = options;
    this.#issuer = issuer;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
  }

  /** The answer for `token`: from the cache, a request in flight, or a new request. */
  introspect(token: string): Promise<IntrospectionResponse> {
    const key = createHash('sha256').update(token, 'utf8').digest('base64url');
    const cached = this.#cache.get(key);
    if (cached) {
      this.#cache.delete(key);
      if (this.#now() < cached.expiresAt) {
        this.#cache.set(key, cached);
        this.#counters.hits++;
        return Promise.resolve(cached.response);
      }
    }
    const pending = this.#inFlight.get(key);
    if (pending) {
      this.#counters.collapsed++;
      return pending;
    }
    const run = this.#request(token).then(
      (response) => {
        this.#remember(key, response);
        return response;
      },
      (error: unknown) => {
        this.#counters.errors++;
        throw error;
      },
    );
    const tracked = run.finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, tracked);
    return tracked;
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.#cache.clear();
  }

  /** Counters since construction, for metrics. */
  stats(): TokenIntrospectorStats {
    return { ...this.#counters, entries: this.#cache.size };
  }

  #remember(key: string, response: IntrospectionResponse): void {
    const now = this.#now();
    let expiresAt: number;
    if (response.active) {
      expiresAt = now + this.#ttlMs;
      // Never past the token's own expiry.
      if (typeof response.exp === 'number') expiresAt = Math.min(expiresAt, response.exp * 1000);
    } else {
      expiresAt = now + this.#negativeTtlMs;
    }
    if (expiresAt <= now) return;
    this.#cache.set(key, { response, expiresAt });
    while (this.#cache.size > this.#maxEntries) {
      this.#cache.delete(this.#cache.keys().next().value as string);
    }
  }

  async #request(token: string): Promise<IntrospectionResponse> {
    const options = this.#options;
    const form = new URLSearchParams({ token });
    const hint =
      options.tokenTypeHint === undefined
        ? TOKEN_INTROSPECTION_DEFAULTS.tokenTypeHint
        : options.tokenTypeHint;
    if (hint !== null) form.set('token_type_hint', hint);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (options.clientSecret !== undefined) {
      headers.authorization = basicCredentials(options.clientId, options.clientSecret);
    } else {
      let assertion: string;
      try {
        assertion = await options.clientAssertion!({
          clientId: options.clientId,
          issuer: this.#issuer,
          endpoint: options.endpoint,
        });
      } catch (cause) {
        throw new IntrospectionError('the client assertion for introspection failed', { cause });
      }
      form.set('client_id', options.clientId);
      form.set('client_assertion_type', JWT_BEARER_CLIENT_ASSERTION_TYPE);
      form.set('client_assertion', assertion);
    }

    this.#counters.requests++;
    const origin = new URL(options.endpoint).origin;
    let response: Response;
    try {
      response = await this.#fetch(options.endpoint, {
        method: 'POST',
        headers,
        body: form.toString(),
        redirect: 'manual',
        signal: timeoutSignal(options.timeoutMs ?? TOKEN_INTROSPECTION_DEFAULTS.timeoutMs),
      });
    } catch (cause) {
      throw new IntrospectionError(`introspection at ${origin} could not be reached`, { cause });
    }
    let text: string;
    try {
      text = await readBodyCapped(
        response,
        options.maxResponseBytes ?? TOKEN_INTROSPECTION_DEFAULTS.maxResponseBytes,
      );
    } catch (cause) {
      throw new IntrospectionError(`introspection at ${origin}: the answer could not be read`, {
        status: response.status,
        cause,
      });
    }
    // RFC 7662 §2.2: 200 with a JSON object; an authentication failure of ours is a 401 (§2.3).
    if (response.status !== 200) {
      throw new IntrospectionError(`introspection at ${origin} answered ${response.status}`, {
        status: response.status,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new IntrospectionError(`introspection at ${origin} did not answer JSON`, {
        status: 200,
      });
    }
    if (
      typeof body !== 'object' ||
      body === null ||
      Array.isArray(body) ||
      typeof (body as { active?: unknown }).active !== 'boolean'
    ) {
      throw new IntrospectionError(
        `introspection at ${origin} answered without a boolean "active" (RFC 7662 §2.2)`,
        { status: 200 },
      );
    }
    return Object.freeze(body as IntrospectionResponse);
  }
}
