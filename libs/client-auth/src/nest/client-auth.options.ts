import type { ClientAuthObserver } from '../core/authenticate-client.js';
import type { ClientStore } from '../core/clients/client-store.interface.js';
import type { RemoteKeySetProvider } from '../core/jwks/remote-key-set.interface.js';
import type { ClientAuthenticationSettings } from '../core/options.js';
import type { ReplayStore } from '../core/replay/replay-store.interface.js';
import type { RegisteredClient } from '../core/types.js';

/** How remote `jwks_uri` key sets are fetched and cached (SPEC S6). */
export interface JwksOptions {
  /** Hosts whose `jwks_uri` may be plain http and resolve to private addresses (development, tests). */
  readonly allowHosts?: readonly string[];
  /** Total time for one fetch, in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Body cap, in bytes. Default 65536. */
  readonly maxBytes?: number;
  /** Floor of the cache lifetime taken from `Cache-Control`, in seconds. Default 60. */
  readonly minTtlSeconds?: number;
  /** Ceiling of the cache lifetime, in seconds. Default 300. */
  readonly maxTtlSeconds?: number;
  /** At most one refetch per URL per this many seconds. Default 30. */
  readonly cooldownSeconds?: number;
  /** How long a stale set is served while refetches fail, in seconds. Default 3600. */
  readonly maxStaleSeconds?: number;
  /** Bound on cached URLs. Default 1000. */
  readonly maxEntries?: number;
}

/**
 * Options of `ClientAuthModule.forRoot()` / `forRootAsync()`: the settings of SPEC S2 plus the
 * stores. Everything but `issuer` has a default.
 *
 * @example
 * ```ts
 * ClientAuthModule.forRoot({
 *   issuer: 'https://auth.example.com',
 *   audiencePolicy: 'strict',
 *   clients: [{ clientId: 'svc-a', tokenEndpointAuthMethod: 'private_key_jwt', ... }],
 * });
 * ```
 */
export interface ClientAuthModuleOptions extends ClientAuthenticationSettings {
  /**
   * Where clients are looked up. Default: an in-memory store built from `clients`. Use the
   * TypeORM registry (`ClientRegistryModule`) for a database-backed store.
   */
  readonly clientStore?: ClientStore;
  /** Static clients for the default in-memory store. */
  readonly clients?: readonly RegisteredClient[];
  /** Where used `jti`s are kept (SPEC S5). Default: in-memory (single process only). */
  readonly replayStore?: ReplayStore;
  /** Remote key sets. Default: a `JwksCache` built from `jwks`. */
  readonly keySets?: RemoteKeySetProvider;
  /** Fetch and cache settings for the default `JwksCache`. */
  readonly jwks?: JwksOptions;
  /**
   * Base URL used to compute "the URL of the endpoint being called" (accepted as `aud` under
   * `compat`) from the route path. Default: the origin of `issuer` plus its path.
   */
  readonly baseUrl?: string;
  /**
   * Trust an incoming `X-Request-Id` header (validated: 1–128 of `[A-Za-z0-9._-]`) instead of
   * always generating one. Default true.
   */
  readonly trustRequestIdHeader?: boolean;
  /**
   * Federated credentials (SPEC S9): `discovery` finds an issuer's `jwks_uri` by OpenID discovery
   * when a credential names no key source (default true; fetched under the `jwks` SSRF rules).
   */
  readonly federation?: { readonly discovery?: boolean };
  /**
   * Notified of every authentication outcome (reason codes, timings) — for logs and metrics.
   * A provider bound to `CLIENT_AUTH_OBSERVER` (e.g. by `ClientAuthMetricsModule`) is notified too.
   */
  readonly observer?: ClientAuthObserver;
}
