import { JwksFetchError } from '../jwks/jwks-errors.js';
import type { JwksFetcher } from '../jwks/jwks-fetcher.js';
import { checkJwksUri, type SsrfPolicy } from '../jwks/ssrf-policy.js';

/** Options of {@link FederatedIssuerDiscovery}. */
export interface FederatedIssuerDiscoveryOptions {
  /** The fetcher (its SSRF policy and limits apply to discovery documents too). */
  readonly fetcher: Pick<JwksFetcher, 'fetchJson'>;
  /** The same policy, for the `jwks_uri` a discovery document names. */
  readonly policy?: SsrfPolicy;
  /** How long a discovered `jwks_uri` is reused, in ms. Default 600000. */
  readonly ttlMs?: number;
  /** How long a failed discovery is remembered, in ms. Default 30000. */
  readonly failureTtlMs?: number;
  /** Bound on cached issuers. Default 1000. */
  readonly maxEntries?: number;
  readonly clock?: () => number;
}

interface Entry {
  readonly at: number;
  readonly result: Promise<string>;
  readonly failed?: boolean;
}

/**
 * Finds an external issuer's `jwks_uri` by OpenID discovery (`<issuer>/.well-known/openid-configuration`,
 * then RFC 8414 `/.well-known/oauth-authorization-server`), for federated credentials without a
 * configured key source (SPEC S9). The document must name the same `issuer` exactly, and its
 * `jwks_uri` must pass the SSRF checks of SPEC S3 — an issuer cannot point key fetches at a
 * private address. Results are cached; concurrent lookups share one fetch.
 */
export class FederatedIssuerDiscovery {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #failureTtlMs: number;
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(private readonly options: FederatedIssuerDiscoveryOptions) {
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#failureTtlMs = options.failureTtlMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#clock = options.clock ?? Date.now;
  }

  /** The issuer's `jwks_uri`; rejects with a {@link JwksFetchError} naming the problem. */
  jwksUriFor(issuer: string): Promise<string> {
    const now = this.#clock();
    const cached = this.#entries.get(issuer);
    if (cached && now - cached.at < (cached.failed ? this.#failureTtlMs : this.#ttlMs)) {
      return cached.result;
    }
    const result = this.#discover(issuer);
    const entry: Entry = { at: now, result };
    this.#entries.delete(issuer);
    this.#entries.set(issuer, entry);
    result.catch(() => {
      if (this.#entries.get(issuer) === entry) {
        this.#entries.set(issuer, { at: this.#clock(), result, failed: true });
      }
    });
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return result;
  }

  async #discover(issuer: string): Promise<string> {
    const base = issuer.replace(/\/+$/, '');
    const locations = [`${base}/.well-known/openid-configuration`, oauthMetadataUrl(issuer)];
    let lastError: unknown;
    for (const location of locations) {
      let document: unknown;
      try {
        document = await this.options.fetcher.fetchJson(location);
      } catch (error) {
        lastError = error;
        continue;
      }
      const metadata = document as { issuer?: unknown; jwks_uri?: unknown } | null;
      if (typeof metadata !== 'object' || metadata === null) {
        throw new JwksFetchError('invalid_json', `discovery of ${issuer} is not a JSON object`);
      }
      // OpenID Connect Discovery §4.3 / RFC 8414 §3.3: the document names the same issuer.
      if (metadata.issuer !== issuer) {
        throw new JwksFetchError('invalid_json', `discovery of ${issuer} names another issuer`);
      }
      if (typeof metadata.jwks_uri !== 'string') {
        throw new JwksFetchError('invalid_json', `discovery of ${issuer} has no jwks_uri`);
      }
      checkJwksUri(metadata.jwks_uri, this.options.policy ?? {});
      return metadata.jwks_uri;
    }
    if (lastError instanceof JwksFetchError) throw lastError;
    throw new JwksFetchError('network', `discovery of ${issuer} failed`, { cause: lastError });
  }
}

/** RFC 8414 §3.1: the well-known suffix goes between the host and the issuer's path. */
function oauthMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}
