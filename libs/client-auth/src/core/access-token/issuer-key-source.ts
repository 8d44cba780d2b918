import type { JWK } from 'jose';
import { parseJwks } from '../jwks/jwks-validation.js';
import type { KeySetSnapshot, RemoteKeySetProvider } from '../jwks/remote-key-set.interface.js';
import { discoverAuthorizationServer } from '../token-client/discovery.js';
import type { FetchFunction } from '../token-client/http.js';

/**
 * Where a resource server gets the keys of the issuer whose access tokens it accepts (SPEC S8).
 * `get()` answers the current set; `refresh()` is asked once when a token names an unknown
 * `kid` or its signature fails, and answers a fresher set or `undefined` when none may be had
 * (cooldown, static keys).
 */
export interface AccessTokenKeySource {
  /** The current key set. Throws when no key set can be obtained. */
  get(): Promise<KeySetSnapshot>;
  /** A fresher key set, or `undefined` when there is none to be had right now. */
  refresh(): Promise<KeySetSnapshot | undefined>;
}

/** A public JWK Set (RFC 7517 §5). */
export interface JwkSet {
  readonly keys: readonly JWK[];
}

/**
 * Keys handed over directly: a JWK Set, or a function returning the current one (for example an
 * authorization server verifying its own tokens with its rotating keys).
 */
export type JwkSetInput = JwkSet | (() => JwkSet | Promise<JwkSet>);

/**
 * A key source over keys handed over directly ({@link JwkSetInput}). A set is validated like a
 * fetched one (`parseJwks`, keys that cannot verify skipped, RFC 7517 §5) — a static set at
 * construction, so a bad configuration fails at start-up. A function is called on every `get()`;
 * while it returns the same JWK objects the same snapshot is served, so imported keys stay cached.
 *
 * @example
 * ```ts
 * const keys = new StaticKeySource(() => serverKeys.publicJwks());
 * ```
 */
export class StaticKeySource implements AccessTokenKeySource {
  readonly #load?: () => JwkSet | Promise<JwkSet>;
  readonly #now: () => number;
  #raw?: readonly JWK[];
  #snapshot?: KeySetSnapshot;

  constructor(input: JwkSetInput, options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    if (typeof input === 'function') {
      this.#load = input;
    } else {
      this.#remember(input);
    }
  }

  async get(): Promise<KeySetSnapshot> {
    if (this.#load) this.#remember(await this.#load());
    return this.#snapshot!;
  }

  async refresh(): Promise<KeySetSnapshot | undefined> {
    if (!this.#load) return undefined;
    const before = this.#snapshot;
    this.#remember(await this.#load());
    return this.#snapshot === before ? undefined : this.#snapshot;
  }

  #remember(set: JwkSet): void {
    const raw = set?.keys;
    if (
      this.#snapshot &&
      Array.isArray(raw) &&
      raw.length === this.#raw!.length &&
      raw.every((key, index) => key === this.#raw![index])
    ) {
      return;
    }
    const keys = parseJwks(set, { ignoreUnusableKeys: true });
    this.#raw = Object.freeze([...(raw as readonly JWK[])]);
    this.#snapshot = Object.freeze({ keys, fetchedAt: this.#now() });
  }
}

/** How an issuer's metadata is discovered (RFC 8414 §3, then OpenID Connect Discovery §4). */
export interface IssuerDiscoveryOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** Per-request timeout, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Accept a plain-http issuer on a non-loopback host (development). Default false. */
  readonly allowInsecureHttp?: boolean;
  /** How long a discovered `jwks_uri` is used before the metadata is read again, in seconds. Default 3600. */
  readonly metadataTtlSeconds?: number;
  /** After a failed discovery, no new attempt for this many seconds. Default 30. */
  readonly retryAfterSeconds?: number;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** Defaults of {@link IssuerDiscoveryOptions}. */
export const ISSUER_DISCOVERY_DEFAULTS = {
  timeoutMs: 5000,
  metadataTtlSeconds: 3600,
  retryAfterSeconds: 30,
} as const;

/** Options of {@link RemoteIssuerKeySource}. */
export interface RemoteIssuerKeySourceOptions {
  /** The issuer identifier (RFC 8414 §2), used for discovery. */
  readonly issuer: string;
  /** The issuer's `jwks_uri`; when absent it is discovered from the issuer's metadata. */
  readonly jwksUri?: string;
  /** The remote key set cache (SPEC S6): fetch rules, cooldown-limited refetch. */
  readonly keySets: RemoteKeySetProvider;
  readonly discovery?: IssuerDiscoveryOptions;
}

/**
 * The keys of a remote issuer (SPEC S6, S8): its `jwks_uri` — configured, or discovered from
 * `/.well-known/oauth-authorization-server` then `/.well-known/openid-configuration`, whose
 * `issuer` must be identical to the configured one (RFC 8414 §3.3) — read through a
 * {@link RemoteKeySetProvider} (`JwksCache`: SSRF policy, caching, stale-on-error, one refetch per
 * cooldown). A discovered `jwks_uri` is kept for `metadataTtlSeconds`, and kept past that while
 * rediscovery fails; concurrent discoveries are collapsed into one.
 *
 * @example
 * ```ts
 * const keys = new RemoteIssuerKeySource({
 *   issuer: 'https://auth.example.com',
 *   keySets: new JwksCache(),
 * });
 * ```
 */
export class RemoteIssuerKeySource implements AccessTokenKeySource {
  readonly #issuer: string;
  readonly #configuredUri?: string;
  readonly #keySets: RemoteKeySetProvider;
  readonly #discovery: IssuerDiscoveryOptions;
  readonly #now: () => number;
  #discovered?: { readonly uri: string; readonly at: number };
  #failure?: { readonly error: unknown; readonly at: number };
  #inFlight?: Promise<string>;

  constructor(options: RemoteIssuerKeySourceOptions) {
    this.#issuer = options.issuer;
    if (options.jwksUri !== undefined) this.#configuredUri = options.jwksUri;
    this.#keySets = options.keySets;
    this.#discovery = options.discovery ?? {};
    this.#now = this.#discovery.now ?? Date.now;
  }

  async get(): Promise<KeySetSnapshot> {
    return this.#keySets.get(await this.jwksUri());
  }

  async refresh(): Promise<KeySetSnapshot | undefined> {
    return this.#keySets.refresh(await this.jwksUri());
  }

  /** The `jwks_uri` in use: configured, or discovered (see the class rules). */
  jwksUri(): Promise<string> {
    if (this.#configuredUri !== undefined) return Promise.resolve(this.#configuredUri);
    const now = this.#now();
    const d = ISSUER_DISCOVERY_DEFAULTS;
    const ttlMs = (this.#discovery.metadataTtlSeconds ?? d.metadataTtlSeconds) * 1000;
    const retryMs = (this.#discovery.retryAfterSeconds ?? d.retryAfterSeconds) * 1000;
    if (this.#discovered && now - this.#discovered.at < ttlMs) {
      return Promise.resolve(this.#discovered.uri);
    }
    if (this.#inFlight) return this.#inFlight;
    if (this.#failure && now - this.#failure.at < retryMs) {
      // Within the retry pause: the stale jwks_uri, or the last error.
      if (this.#discovered) return Promise.resolve(this.#discovered.uri);
      return Promise.reject(this.#failure.error);
    }
    const run = this.#discover().then(
      (uri) => {
        this.#discovered = { uri, at: this.#now() };
        this.#failure = undefined;
        return uri;
      },
      (error: unknown) => {
        this.#failure = { error, at: this.#now() };
        if (this.#discovered) return this.#discovered.uri;
        throw error;
      },
    );
    const tracked = run.finally(() => {
      if (this.#inFlight === tracked) this.#inFlight = undefined;
    });
    this.#inFlight = tracked;
    return tracked;
  }

  async #discover(): Promise<string> {
    const metadata = await discoverAuthorizationServer(this.#issuer, {
      ...(this.#discovery.fetch && { fetch: this.#discovery.fetch }),
      timeoutMs: this.#discovery.timeoutMs ?? ISSUER_DISCOVERY_DEFAULTS.timeoutMs,
      allowInsecureHttp: this.#discovery.allowInsecureHttp ?? false,
    });
    // RFC 8414 §2: jwks_uri is OPTIONAL in general, but a resource server cannot work without it.
    if (typeof metadata.jwks_uri !== 'string' || metadata.jwks_uri === '') {
      throw new Error(`the metadata of ${this.#issuer} has no jwks_uri`);
    }
    return metadata.jwks_uri;
  }
}
