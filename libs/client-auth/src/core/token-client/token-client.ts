import { createHash } from 'node:crypto';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE } from '../options.js';
import {
  AssertionProviderError,
  ClientAuthConfigurationError,
  DiscoveryError,
  OutgoingAuthError,
  TokenEndpointError,
  TokenRequestError,
  TokenResponseError,
} from '../outgoing/outgoing-errors.js';
import {
  isClientAssertionProvider,
  type ClientAssertionProvider,
} from '../signing/assertion-provider.interface.js';
import { ClientAssertionSigner } from '../signing/client-assertion-signer.js';
import { importSecretSigningKey } from '../signing/signing-key.js';
import { discoverAuthorizationServer, type AuthorizationServerMetadata } from './discovery.js';
import {
  BodyTooLargeError,
  isTimeoutError,
  readBodyCapped,
  timeoutSignal,
  urlProblem,
  type FetchFunction,
} from './http.js';
import {
  backoffDelay,
  parseRetryAfter,
  resolveRetryPolicy,
  sleep,
  type RetryPolicy,
} from './retry.js';
import {
  JWT_BEARER_GRANT_TYPE,
  type AccessToken,
  type AccessTokenSource,
  type OutgoingAuthMethod,
  type TokenClientOptions,
  type TokenRequest,
} from './token-client.types.js';

/** Largest token response read, in bytes. */
const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;
/** Largest error response read, in bytes. */
const MAX_ERROR_RESPONSE_BYTES = 64 * 1024;
/** Longest `error_description` kept from a server response. */
const MAX_DESCRIPTION_LENGTH = 500;

/** RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const JWT_METHODS: readonly OutgoingAuthMethod[] = ['private_key_jwt', 'client_secret_jwt'];
const SECRET_METHODS: readonly OutgoingAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
];
const METHODS: readonly OutgoingAuthMethod[] = [...JWT_METHODS, ...SECRET_METHODS, 'none'];

/** A request normalised for sending and for the cache key. */
interface NormalizedRequest {
  readonly grantType: string;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  readonly audience?: string;
  readonly assertion?: string;
}

interface CacheEntry {
  readonly token: AccessToken;
  /** From then on the token is refreshed before use (epoch ms). */
  readonly refreshAt: number;
}

/** A network error or timeout of one attempt (retried; surfaced as `TokenRequestError`). */
class TransportFailure extends Error {
  constructor(
    readonly kind: 'network' | 'timeout',
    cause: unknown,
  ) {
    super(kind, { cause });
  }
}

/** How `client_secret_basic` encodes the id and secret (RFC 6749 §2.3.1: form-urlencoded first). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function toList(value: string | readonly string[] | undefined, what: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : [...value];
  for (const item of list) {
    if (typeof item !== 'string' || item === '') {
      throw new ClientAuthConfigurationError(`${what} must be non-empty strings`);
    }
  }
  return list;
}

function scopesOf(value: string | readonly string[] | undefined): string[] {
  const scopes = toList(value, 'scope');
  const bad = scopes.find((scope) => !SCOPE_TOKEN.test(scope));
  if (bad !== undefined) {
    throw new ClientAuthConfigurationError(
      `scope ${JSON.stringify(bad)} is not an RFC 6749 §3.3 scope token`,
    );
  }
  return [...new Set(scopes)];
}

function resourcesOf(value: string | readonly string[] | undefined): string[] {
  const resources = toList(value, 'resource');
  for (const resource of resources) {
    // RFC 8707 §2: an absolute URI without a fragment.
    let url: URL | undefined;
    try {
      url = new URL(resource);
    } catch {
      url = undefined;
    }
    if (!url || resource.includes('#')) {
      throw new ClientAuthConfigurationError(
        `resource ${JSON.stringify(resource)} must be an absolute URI without a fragment (RFC 8707 §2)`,
      );
    }
  }
  return [...new Set(resources)];
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < 0) {
    throw new ClientAuthConfigurationError(`${name} must be a non-negative number`);
  }
  return resolved;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

/** Waits for `promise`, or rejects when `signal` aborts first (the promise keeps running). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Whether a failure is transient: a retry (later) may succeed. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof TokenRequestError ||
    (error instanceof TokenEndpointError && error.transient) ||
    (error instanceof DiscoveryError && error.transient)
  );
}

/**
 * An OAuth 2.0 client of one authorization server (SPEC S7): discovers the token endpoint
 * (RFC 8414, then OpenID Connect Discovery), authenticates with `private_key_jwt` /
 * `client_secret_jwt` through an assertion provider or with `client_secret_basic` /
 * `client_secret_post`, and obtains access tokens with `client_credentials` (RFC 6749 §4.4) or
 * the JWT bearer grant (RFC 7523 §2.1).
 *
 * - Tokens are cached per grant, scope, resource and audience until shortly before they expire
 *   (`expirySkewSeconds`, at most half the lifetime); concurrent callers of one key share one
 *   request.
 * - Network errors, timeouts, 5xx and 429 are retried with exponential backoff and jitter, at
 *   most `retry.maxAttempts` times in all; `Retry-After` is honoured up to
 *   `retry.maxRetryAfterMs`. Other 4xx — `invalid_client` among them — are never retried and
 *   raise `TokenEndpointError` with the server's `error` and `error_description`.
 * - Every attempt carries a freshly made assertion: its `jti` is single-use.
 * - When a refresh fails transiently while the cached token is still valid, the cached token
 *   is returned.
 *
 * @example
 * ```ts
 * const client = new TokenClient({
 *   clientId: 'billing',
 *   issuer: 'https://auth.example.com',
 *   signingKey: { file: '/etc/billing/key.pem', kid: 'billing-1' },
 *   scope: 'invoices:read',
 * });
 * const { accessToken } = await client.getToken();
 * ```
 */
export class TokenClient implements AccessTokenSource {
  /** The client's `client_id`. */
  readonly clientId: string;
  /** The authorization server's issuer identifier. */
  readonly issuer: string;
  /** The authentication method in use. */
  readonly authMethod: OutgoingAuthMethod;

  readonly #options: TokenClientOptions;
  readonly #fetch: FetchFunction;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #skewMs: number;
  readonly #defaultLifetimeMs: number;
  readonly #metadataTtlMs: number;
  readonly #maxCached: number;
  readonly #allowInsecureHttp: boolean;
  readonly #provider: ClientAssertionProvider | undefined;
  readonly #ownsProvider: boolean;
  readonly #secret: string | undefined;
  readonly #defaults: { scopes: string[]; resources: string[]; audience?: string };

  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<AccessToken>>();
  #metadata: { value: AuthorizationServerMetadata; expiresAt: number } | undefined;
  #discovering: Promise<AuthorizationServerMetadata> | undefined;

  /** Validates the options; throws `ClientAuthConfigurationError` (or a key error) when invalid. */
  constructor(options: TokenClientOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ClientAuthConfigurationError('token client options are required');
    }
    this.#options = options;
    if (typeof options.clientId !== 'string' || options.clientId === '') {
      throw new ClientAuthConfigurationError('clientId must be a non-empty string');
    }
    this.clientId = options.clientId;
    this.#allowInsecureHttp = options.allowInsecureHttp ?? false;
    const issuerProblem = urlProblem(options.issuer, this.#allowInsecureHttp);
    if (issuerProblem) throw new ClientAuthConfigurationError(`issuer ${issuerProblem}`);
    if (new URL(options.issuer).search) {
      // RFC 8414 §2: the issuer has no query component.
      throw new ClientAuthConfigurationError('issuer must not have a query component');
    }
    this.issuer = options.issuer;
    if (options.tokenEndpoint !== undefined) {
      const problem = urlProblem(options.tokenEndpoint, this.#allowInsecureHttp);
      if (problem) throw new ClientAuthConfigurationError(`tokenEndpoint ${problem}`);
    }

    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') {
      throw new ClientAuthConfigurationError('no fetch implementation is available');
    }
    this.#fetch = fetchFn;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#retry = resolveRetryPolicy(options.retry);
    const timeout = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new ClientAuthConfigurationError('timeoutMs must be a positive number');
    }
    this.#timeoutMs = timeout;
    this.#skewMs = nonNegative(options.expirySkewSeconds, 30, 'expirySkewSeconds') * 1000;
    this.#defaultLifetimeMs =
      nonNegative(options.defaultExpiresInSeconds, 60, 'defaultExpiresInSeconds') * 1000;
    this.#metadataTtlMs =
      nonNegative(options.metadataTtlSeconds, 3600, 'metadataTtlSeconds') * 1000;
    const maxCached = options.maxCachedTokens ?? 100;
    if (!Number.isInteger(maxCached) || maxCached < 1) {
      throw new ClientAuthConfigurationError('maxCachedTokens must be a positive integer');
    }
    this.#maxCached = maxCached;
    this.#defaults = {
      scopes: scopesOf(options.scope),
      resources: resourcesOf(options.resource),
      ...(options.audience !== undefined ? { audience: options.audience } : {}),
    };
    if (
      options.audience !== undefined &&
      (typeof options.audience !== 'string' || !options.audience)
    ) {
      throw new ClientAuthConfigurationError('audience must be a non-empty string');
    }

    // SPEC S7: one credential per client; a secret and an assertion provider is an error.
    const given = [
      options.assertionProvider !== undefined && 'assertionProvider',
      options.signingKey !== undefined && 'signingKey',
      options.clientSecret !== undefined && 'clientSecret',
    ].filter((name): name is string => typeof name === 'string');
    if (given.length > 1) {
      throw new ClientAuthConfigurationError(
        `client ${this.clientId}: configure one credential, not ${given.join(' and ')}`,
      );
    }
    const method = options.authMethod;
    if (method !== undefined && !METHODS.includes(method)) {
      throw new ClientAuthConfigurationError(`authMethod ${String(method)} is not supported`);
    }
    let provider: ClientAssertionProvider | undefined;
    let ownsProvider = false;
    let secret: string | undefined;
    let resolved: OutgoingAuthMethod;
    if (options.assertionProvider !== undefined) {
      if (!isClientAssertionProvider(options.assertionProvider)) {
        throw new ClientAuthConfigurationError('assertionProvider must have getAssertion()');
      }
      provider = options.assertionProvider;
      resolved = method ?? provider.method ?? 'private_key_jwt';
    } else if (options.signingKey !== undefined) {
      provider = new ClientAssertionSigner({ ...options.assertion, key: options.signingKey });
      ownsProvider = true;
      resolved = method ?? provider.method ?? 'private_key_jwt';
    } else if (options.clientSecret !== undefined) {
      if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
        throw new ClientAuthConfigurationError('clientSecret must be a non-empty string');
      }
      resolved = method ?? 'client_secret_basic';
      if (resolved === 'client_secret_jwt') {
        // OpenID Connect Core §9: the HMAC key is the client secret.
        const key = importSecretSigningKey(options.clientSecret, { alg: options.assertion?.alg });
        provider = new ClientAssertionSigner({ ...options.assertion, key });
        ownsProvider = true;
      } else {
        secret = options.clientSecret;
      }
    } else {
      if (method === undefined) {
        throw new ClientAuthConfigurationError(
          `client ${this.clientId}: configure a credential (assertionProvider, signingKey or clientSecret), or authMethod 'none' for a public client`,
        );
      }
      resolved = method;
      if (resolved !== 'none') {
        throw new ClientAuthConfigurationError(
          `client ${this.clientId}: ${resolved} needs ${JWT_METHODS.includes(resolved) ? 'an assertionProvider or a signingKey' : 'a clientSecret'}`,
        );
      }
    }
    if (provider && !JWT_METHODS.includes(resolved)) {
      throw new ClientAuthConfigurationError(
        `client ${this.clientId}: an assertion provider authenticates with private_key_jwt or client_secret_jwt, not ${resolved}`,
      );
    }
    if (secret !== undefined && !SECRET_METHODS.includes(resolved)) {
      throw new ClientAuthConfigurationError(
        `client ${this.clientId}: a client secret authenticates with client_secret_basic, client_secret_post or client_secret_jwt, not ${resolved}`,
      );
    }
    this.authMethod = resolved;
    this.#provider = provider;
    this.#ownsProvider = ownsProvider;
    this.#secret = secret;
  }

  /**
   * A valid access token for `request`: the cached one while it is fresh, else a new one (one
   * request shared by every concurrent caller of the same grant/scope/resource/audience).
   */
  getToken(request: TokenRequest = {}): Promise<AccessToken> {
    let normalized: NormalizedRequest;
    let key: string;
    try {
      normalized = this.#normalize(request);
      key = cacheKey(normalized);
    } catch (error) {
      return Promise.reject(error);
    }
    const entry = this.#cache.get(key);
    if (entry && !request.forceRefresh && this.#clock() < entry.refreshAt) {
      // Most recently used last, so eviction drops the least recently used.
      this.#cache.delete(key);
      this.#cache.set(key, entry);
      return Promise.resolve(entry.token);
    }
    let flight = this.#inflight.get(key);
    if (!flight) {
      flight = this.#obtain(key, normalized, request.forceRefresh ? undefined : entry).finally(() =>
        this.#inflight.delete(key),
      );
      this.#inflight.set(key, flight);
    }
    return abortable(flight, request.signal);
  }

  /** The access token string of {@link getToken}. */
  async getAccessToken(request?: TokenRequest): Promise<string> {
    return (await this.getToken(request)).accessToken;
  }

  /**
   * Drops cached tokens: every one, or — with `accessToken` — the entry holding that token (a
   * 401 from an API means that token is no longer accepted).
   */
  invalidate(accessToken?: string): void {
    if (accessToken === undefined) {
      this.#cache.clear();
      return;
    }
    for (const [key, entry] of this.#cache) {
      if (entry.token.accessToken === accessToken) this.#cache.delete(key);
    }
  }

  /**
   * The authorization server's metadata, discovered once and cached for `metadataTtlSeconds`
   * (RFC 8414 §3, then OpenID Connect Discovery §4). A failed refresh keeps serving the previous
   * metadata.
   */
  metadata(): Promise<AuthorizationServerMetadata> {
    const cached = this.#metadata;
    if (cached && this.#clock() < cached.expiresAt) return Promise.resolve(cached.value);
    this.#discovering ??= discoverAuthorizationServer(this.issuer, {
      fetch: this.#fetch,
      timeoutMs: this.#timeoutMs,
      allowInsecureHttp: this.#allowInsecureHttp,
    })
      .then((value) => {
        this.#metadata = { value, expiresAt: this.#clock() + this.#metadataTtlMs };
        return value;
      })
      .catch((error: unknown) => {
        if (cached) return cached.value;
        throw error;
      })
      .finally(() => {
        this.#discovering = undefined;
      });
    return this.#discovering;
  }

  /** The token endpoint URL: configured, or discovered. */
  async tokenEndpoint(): Promise<string> {
    return this.#options.tokenEndpoint ?? (await this.metadata()).token_endpoint;
  }

  /**
   * A client assertion exactly as the next token request would send it (for the JWT methods).
   * Each call makes a new one with a new `jti`.
   */
  async createClientAssertion(grantType = 'client_credentials'): Promise<string> {
    if (!this.#provider) {
      throw new ClientAuthConfigurationError(
        `client ${this.clientId} authenticates with ${this.authMethod}, not with an assertion`,
      );
    }
    return this.#assertion(await this.tokenEndpoint(), grantType);
  }

  /** Releases what the client owns (a key file's change check). */
  async close(): Promise<void> {
    if (this.#ownsProvider) await this.#provider?.close?.();
  }

  #normalize(request: TokenRequest): NormalizedRequest {
    const grant = request.grantType ?? 'client_credentials';
    if (grant !== 'client_credentials' && grant !== 'jwt_bearer') {
      throw new ClientAuthConfigurationError(`grantType ${String(grant)} is not supported`);
    }
    if (grant === 'jwt_bearer') {
      if (typeof request.assertion !== 'string' || request.assertion === '') {
        throw new ClientAuthConfigurationError('the jwt_bearer grant needs an assertion');
      }
    } else if (request.assertion !== undefined) {
      throw new ClientAuthConfigurationError('assertion is only sent with the jwt_bearer grant');
    }
    const audience = request.audience ?? this.#defaults.audience;
    if (audience !== undefined && (typeof audience !== 'string' || audience === '')) {
      throw new ClientAuthConfigurationError('audience must be a non-empty string');
    }
    return {
      grantType: grant === 'jwt_bearer' ? JWT_BEARER_GRANT_TYPE : 'client_credentials',
      scopes: request.scope !== undefined ? scopesOf(request.scope) : this.#defaults.scopes,
      resources:
        request.resource !== undefined ? resourcesOf(request.resource) : this.#defaults.resources,
      ...(audience !== undefined ? { audience } : {}),
      ...(request.assertion !== undefined ? { assertion: request.assertion } : {}),
    };
  }

  async #obtain(
    key: string,
    request: NormalizedRequest,
    previous: CacheEntry | undefined,
  ): Promise<AccessToken> {
    try {
      const { token, sentAt } = await this.#requestWithRetries(request);
      this.#store(key, token, sentAt);
      return token;
    } catch (error) {
      // A transient failure while the cached token is still valid: keep using it.
      if (
        previous &&
        this.#cache.get(key) === previous &&
        this.#clock() < previous.token.expiresAt &&
        isTransient(error)
      ) {
        return previous.token;
      }
      throw error;
    }
  }

  #store(key: string, token: AccessToken, sentAt: number): void {
    const lifetime = token.expiresAt - sentAt;
    this.#cache.delete(key);
    if (lifetime <= 0) return;
    const refreshAt = token.expiresAt - Math.min(this.#skewMs, lifetime / 2);
    this.#cache.set(key, { token, refreshAt });
    const now = this.#clock();
    for (const [other, entry] of this.#cache) {
      if (entry.token.expiresAt <= now) this.#cache.delete(other);
    }
    while (this.#cache.size > this.#maxCached) {
      const oldest = this.#cache.keys().next().value as string;
      this.#cache.delete(oldest);
    }
  }

  async #requestWithRetries(
    request: NormalizedRequest,
  ): Promise<{ token: AccessToken; sentAt: number }> {
    const policy = this.#retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#requestOnce(request, attempt);
      } catch (error) {
        const last = attempt >= policy.maxAttempts;
        if (error instanceof TransportFailure) {
          if (last) throw new TokenRequestError(error.kind, attempt, { cause: error.cause });
          await sleep(backoffDelay(attempt, policy, this.#random));
        } else if (error instanceof TokenEndpointError && error.transient && !last) {
          if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
            throw error;
          }
          await sleep(error.retryAfterMs ?? backoffDelay(attempt, policy, this.#random));
        } else if (error instanceof DiscoveryError && error.transient && !last) {
          await sleep(backoffDelay(attempt, policy, this.#random));
        } else {
          throw error;
        }
      }
    }
  }

  async #requestOnce(
    request: NormalizedRequest,
    attempt: number,
  ): Promise<{ token: AccessToken; sentAt: number }> {
    const endpoint = await this.tokenEndpoint();
    const params = new URLSearchParams();
    params.set('grant_type', request.grantType);
    if (request.assertion !== undefined) params.set('assertion', request.assertion);
    if (request.scopes.length > 0) params.set('scope', request.scopes.join(' '));
    // RFC 8707 §2: the resource parameter may be repeated.
    for (const resource of request.resources) params.append('resource', resource);
    if (request.audience !== undefined) params.set('audience', request.audience);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    await this.#authenticate(params, headers, endpoint, request.grantType);

    const sentAt = this.#clock();
    let response: Response;
    try {
      response = await this.#fetch(endpoint, {
        method: 'POST',
        headers,
        body: params.toString(),
        // Credentials are never replayed to another location.
        redirect: 'manual',
        signal: timeoutSignal(this.#timeoutMs),
      });
    } catch (cause) {
      throw new TransportFailure(isTimeoutError(cause) ? 'timeout' : 'network', cause);
    }
    if (response.status >= 200 && response.status < 300) {
      let text: string;
      try {
        text = await readBodyCapped(response, MAX_TOKEN_RESPONSE_BYTES);
      } catch (cause) {
        if (cause instanceof BodyTooLargeError) {
          throw new TokenResponseError('the token response is too large', { cause });
        }
        throw new TransportFailure(isTimeoutError(cause) ? 'timeout' : 'network', cause);
      }
      return { token: this.#parseToken(text, sentAt), sentAt };
    }
    throw await this.#endpointError(response, attempt);
  }

  async #authenticate(
    params: URLSearchParams,
    headers: Record<string, string>,
    endpoint: string,
    grantType: string,
  ): Promise<void> {
    switch (this.authMethod) {
      case 'client_secret_basic':
        // RFC 6749 §2.3.1: form-urlencode id and secret, then Basic (RFC 7617).
        headers.authorization = `Basic ${Buffer.from(
          `${formEncode(this.clientId)}:${formEncode(this.#secret!)}`,
        ).toString('base64')}`;
        return;
      case 'client_secret_post':
        params.set('client_id', this.clientId);
        params.set('client_secret', this.#secret!);
        return;
      case 'none':
        params.set('client_id', this.clientId);
        return;
      default:
        // RFC 7523 §2.2 / RFC 7521 §4.2: client_id is optional; sent so servers can look up
        // the client before parsing the assertion.
        params.set('client_id', this.clientId);
        params.set('client_assertion_type', JWT_BEARER_CLIENT_ASSERTION_TYPE);
        params.set('client_assertion', await this.#assertion(endpoint, grantType));
    }
  }

  async #assertion(tokenEndpoint: string, grantType: string): Promise<string> {
    try {
      return await this.#provider!.getAssertion({
        clientId: this.clientId,
        issuer: this.issuer,
        tokenEndpoint,
        grantType,
      });
    } catch (error) {
      if (error instanceof OutgoingAuthError) throw error;
      throw new AssertionProviderError('the assertion provider failed', { cause: error });
    }
  }

  /** RFC 6749 §5.1: a JSON object with `access_token` and `token_type` (Bearer only). */
  #parseToken(text: string, sentAt: number): AccessToken {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new TokenResponseError('the token response is not JSON', { cause });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new TokenResponseError('the token response is not a JSON object');
    }
    const raw = body as Record<string, unknown>;
    if (typeof raw.access_token !== 'string' || raw.access_token === '') {
      throw new TokenResponseError('the token response has no access_token');
    }
    // RFC 6749 §5.1: token_type is case-insensitive; only Bearer (RFC 6750) is supported.
    if (typeof raw.token_type !== 'string' || raw.token_type.toLowerCase() !== 'bearer') {
      throw new TokenResponseError(
        `token_type ${JSON.stringify(truncate(String(raw.token_type), 40))} is not supported (Bearer only)`,
      );
    }
    let expiresIn: number | undefined;
    const rawExpiresIn = raw.expires_in;
    if (typeof rawExpiresIn === 'number' && Number.isFinite(rawExpiresIn) && rawExpiresIn >= 0) {
      expiresIn = rawExpiresIn;
    } else if (typeof rawExpiresIn === 'string' && /^\d+$/.test(rawExpiresIn)) {
      expiresIn = Number(rawExpiresIn); // some servers send a numeric string
    }
    const lifetimeMs = expiresIn !== undefined ? expiresIn * 1000 : this.#defaultLifetimeMs;
    return Object.freeze({
      accessToken: raw.access_token,
      tokenType: 'Bearer' as const,
      expiresAt: sentAt + lifetimeMs,
      ...(expiresIn !== undefined ? { expiresIn } : {}),
      ...(typeof raw.scope === 'string' ? { scope: raw.scope } : {}),
      raw: Object.freeze({ ...raw }),
    });
  }

  /** RFC 6749 §5.2 error response (or any other non-2xx) as a `TokenEndpointError`. */
  async #endpointError(response: Response, attempts: number): Promise<TokenEndpointError> {
    let error: string | undefined;
    let errorDescription: string | undefined;
    let errorUri: string | undefined;
    try {
      const body = JSON.parse(await readBodyCapped(response, MAX_ERROR_RESPONSE_BYTES)) as unknown;
      if (typeof body === 'object' && body !== null) {
        const fields = body as Record<string, unknown>;
        if (typeof fields.error === 'string') error = truncate(fields.error, 100);
        if (typeof fields.error_description === 'string') {
          errorDescription = truncate(fields.error_description, MAX_DESCRIPTION_LENGTH);
        }
        if (typeof fields.error_uri === 'string') errorUri = truncate(fields.error_uri, 500);
      }
    } catch {
      // Not an OAuth error body: the status alone describes the failure.
    }
    return new TokenEndpointError({
      status: response.status,
      ...(error !== undefined ? { error } : {}),
      ...(errorDescription !== undefined ? { errorDescription } : {}),
      ...(errorUri !== undefined ? { errorUri } : {}),
      ...(() => {
        // An HTTP-date is wall-clock time, whatever clock the cache uses.
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now());
        return retryAfterMs !== undefined ? { retryAfterMs } : {};
      })(),
      attempts,
    });
  }
}

/** The cache key of a request: grant, sorted scopes and resources, audience, grant assertion digest. */
function cacheKey(request: NormalizedRequest): string {
  return JSON.stringify([
    request.grantType,
    [...request.scopes].sort(),
    [...request.resources].sort(),
    request.audience ?? null,
    request.assertion !== undefined
      ? createHash('sha256').update(request.assertion).digest('base64url')
      : null,
  ]);
}
