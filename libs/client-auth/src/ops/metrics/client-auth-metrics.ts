import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClientAuthObserver } from '../../core/authenticate-client.js';
import type {
  ClientAuthenticationFailure,
  ClientAuthenticationSuccess,
} from '../../core/clients/client-store.interface.js';
import type { JwksCacheStats } from '../../core/jwks/jwks-cache.js';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../../core/types.js';

/** Options of {@link ClientAuthMetrics}. */
export interface ClientAuthMetricsOptions {
  /** Where the metrics are registered. Default: a new `Registry` (never prom-client's global one). */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `client_auth_`. */
  readonly prefix?: string;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop). Default false. */
  readonly defaultMetrics?: boolean;
  /** Buckets of the authentication duration histogram, in seconds. */
  readonly authDurationBuckets?: readonly number[];
  /** Buckets of the HTTP request duration histogram, in seconds. */
  readonly httpDurationBuckets?: readonly number[];
}

/** Anything exposing `JwksCache`-style counters (the default `JwksCache` does). */
export interface JwksStatsSource {
  stats(): JwksCacheStats;
}

/** One finished HTTP request, for the request duration histogram. */
export interface HttpRequestObservation {
  /** HTTP method (`GET`, `POST`…); others are counted as `OTHER`. */
  readonly method: string;
  /** The route pattern (`/oauth/register/:clientId`), never the raw URL; `unmatched` without one. */
  readonly route: string;
  readonly statusCode: number;
  readonly seconds: number;
}

/** Where a request was rate limited: the endpoint and what the bucket counted. */
export type RateLimitScope = 'client' | 'address';

/** Default buckets of the authentication duration histogram (seconds): 1 ms … 10 s. */
export const AUTH_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Default buckets of the HTTP request duration histogram (seconds): 1 ms … 10 s. */
export const HTTP_DURATION_BUCKETS: readonly number[] = AUTH_DURATION_BUCKETS;

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const AUTH_METHODS = new Set<string>(TOKEN_ENDPOINT_AUTH_METHODS);
/** Longest label value taken from outside (route patterns, reason codes). */
const MAX_LABEL_LENGTH = 120;

function boundedLabel(value: string | undefined, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  return value.length > MAX_LABEL_LENGTH ? value.slice(0, MAX_LABEL_LENGTH) : value;
}

/**
 * Prometheus metrics of client authentication and the endpoints around it (SPEC S10), on a
 * registry of their own. Every label has a bounded set of values (methods, outcomes, reason
 * codes, route patterns); no label carries a client id, a secret or an assertion.
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `client_auth_authentications_total` | counter | `method`, `outcome` (`success` \| `failure` \| `unavailable`), `reason` (S2.9 code, `none` on success) |
 * | `client_auth_authentication_duration_seconds` | histogram | `method`, `outcome` |
 * | `client_auth_replays_total` | counter | `method` |
 * | `client_auth_tokens_issued_total` | counter | — |
 * | `client_auth_http_request_duration_seconds` | histogram | `method`, `route`, `status_code` |
 * | `client_auth_rate_limited_total` | counter | `endpoint`, `scope` (`client` \| `address`) |
 * | `client_auth_jwks_fetches_total`, `…_jwks_fetch_failures_total`, `…_jwks_cache_hits_total`, `…_jwks_cache_misses_total`, `…_jwks_stale_served_total`, `…_jwks_fetches_collapsed_total`, `…_jwks_cache_evictions_total` | counter | — |
 * | `client_auth_jwks_cache_entries` | gauge | — |
 *
 * @example
 * ```ts
 * const metrics = new ClientAuthMetrics({ defaultMetrics: true });
 * const authenticator = new ClientAuthenticator({ ...deps, observer: metrics.observer });
 * metrics.watchJwksCache(jwksCache);
 * res.type(metrics.contentType).send(await metrics.metrics());
 * ```
 */
export class ClientAuthMetrics {
  /** The registry holding every metric below. */
  readonly registry: Registry;
  /** Feeds the authentication metrics; pass it as `ClientAuthenticator`'s `observer`. */
  readonly observer: ClientAuthObserver;

  readonly #authentications: Counter<'method' | 'outcome' | 'reason'>;
  readonly #authDuration: Histogram<'method' | 'outcome'>;
  readonly #replays: Counter<'method'>;
  readonly #tokensIssued: Counter;
  readonly #httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly #rateLimited: Counter<'endpoint' | 'scope'>;
  readonly #jwksSources = new Set<JwksStatsSource>();

  constructor(options: ClientAuthMetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    const prefix = options.prefix ?? 'client_auth_';
    this.registry = registry;
    const registers = [registry];

    this.#authentications = new Counter({
      name: `${prefix}authentications_total`,
      help: 'Client authentications by method, outcome and reason code (SPEC S2.9).',
      labelNames: ['method', 'outcome', 'reason'],
      registers,
    });
    this.#authDuration = new Histogram({
      name: `${prefix}authentication_duration_seconds`,
      help: 'Time to authenticate a client, from the request to the outcome.',
      labelNames: ['method', 'outcome'],
      buckets: [...(options.authDurationBuckets ?? AUTH_DURATION_BUCKETS)],
      registers,
    });
    this.#replays = new Counter({
      name: `${prefix}replays_total`,
      help: 'Assertions refused because their jti was already used (SPEC S5).',
      labelNames: ['method'],
      registers,
    });
    this.#tokensIssued = new Counter({
      name: `${prefix}tokens_issued_total`,
      help: 'Access tokens issued.',
      registers,
    });
    this.#httpDuration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request duration by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [...(options.httpDurationBuckets ?? HTTP_DURATION_BUCKETS)],
      registers,
    });
    this.#rateLimited = new Counter({
      name: `${prefix}rate_limited_total`,
      help: 'Requests answered 429 by a rate limit, by endpoint and bucket scope.',
      labelNames: ['endpoint', 'scope'],
      registers,
    });
    this.#registerJwksMetrics(prefix, registers);
    if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

    this.observer = {
      onSuccess: (event) => this.#recordSuccess(event),
      onFailure: (event) => this.#recordFailure(event),
    };
  }

  /** The `Content-Type` of {@link metrics}' output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in the Prometheus text exposition format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts one issued access token. */
  tokenIssued(count = 1): void {
    this.#tokensIssued.inc(count);
  }

  /** Records one finished HTTP request. */
  observeHttpRequest(observation: HttpRequestObservation): void {
    const method = observation.method.toUpperCase();
    this.#httpDuration.observe(
      {
        method: HTTP_METHODS.has(method) ? method : 'OTHER',
        route: boundedLabel(observation.route, 'unmatched'),
        status_code: String(observation.statusCode),
      },
      Math.max(0, observation.seconds),
    );
  }

  /** Counts one request refused by a rate limit (`endpoint`: `token`, `registration`…). */
  rateLimited(endpoint: string, scope: RateLimitScope): void {
    this.#rateLimited.inc({ endpoint: boundedLabel(endpoint, 'other'), scope });
  }

  /**
   * Exposes the counters of a key set cache (fetches, hits, misses, failures, stale answers,
   * collapsed fetches, evictions, entries). Several sources are summed. Returns a function that
   * stops watching.
   */
  watchJwksCache(source: JwksStatsSource): () => void {
    this.#jwksSources.add(source);
    return () => this.#jwksSources.delete(source);
  }

  #recordSuccess(event: ClientAuthenticationSuccess): void {
    const method = this.#method(event.method);
    this.#authentications.inc({ method, outcome: 'success', reason: 'none' });
    this.#authDuration.observe({ method, outcome: 'success' }, elapsedSeconds(event.at));
  }

  #recordFailure(event: ClientAuthenticationFailure): void {
    const method = this.#method(event.method);
    const outcome = event.reason === 'store_unavailable' ? 'unavailable' : 'failure';
    this.#authentications.inc({ method, outcome, reason: boundedLabel(event.reason, 'unknown') });
    this.#authDuration.observe({ method, outcome }, elapsedSeconds(event.at));
    if (event.reason === 'jti_replayed') this.#replays.inc({ method });
  }

  #method(method: string | undefined): string {
    if (method === undefined) return 'unknown';
    return AUTH_METHODS.has(method) ? method : 'other';
  }

  #registerJwksMetrics(prefix: string, registers: Registry[]): void {
    const sum = (field: keyof JwksCacheStats): number => {
      let total = 0;
      for (const source of this.#jwksSources) {
        try {
          total += source.stats()[field];
        } catch {
          // a failing source must not break the scrape
        }
      }
      return total;
    };
    const counters: [string, keyof JwksCacheStats, string][] = [
      ['jwks_fetches_total', 'fetches', 'Remote key set fetches started (SPEC S6).'],
      ['jwks_fetch_failures_total', 'errors', 'Remote key set fetches that failed.'],
      ['jwks_cache_hits_total', 'hits', 'Key set lookups answered from a fresh cache entry.'],
      ['jwks_cache_misses_total', 'misses', 'Key set lookups that needed a fetch.'],
      ['jwks_stale_served_total', 'staleServed', 'Failed fetches answered with a stale key set.'],
      ['jwks_fetches_collapsed_total', 'collapsed', 'Lookups that joined a fetch in flight.'],
      ['jwks_cache_evictions_total', 'evictions', 'Cache entries evicted by the size bound.'],
    ];
    for (const [name, field, help] of counters) {
      new Counter({
        name: `${prefix}${name}`,
        help,
        registers,
        // Read at scrape time from the caches' own counters (monotonic, summed over sources).
        collect(this: Counter) {
          this.reset();
          const value = sum(field);
          if (value > 0) this.inc(value);
        },
      });
    }
    new Gauge({
      name: `${prefix}jwks_cache_entries`,
      help: 'Remote key sets currently cached.',
      registers,
      collect(this: Gauge) {
        this.set(sum('entries'));
      },
    });
  }
}

function elapsedSeconds(since: Date): number {
  const ms = Date.now() - since.getTime();
  return Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0;
}
