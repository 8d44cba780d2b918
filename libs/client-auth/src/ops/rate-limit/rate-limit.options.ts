import type { HttpRequestLike } from '../../nest/http-platform.js';

/** Requests per minute allowed on one endpoint; 0 or absent means no limit. */
export interface EndpointRateLimits {
  /** Per authenticated client (token endpoint only). */
  readonly perClient?: number;
  /** Per caller address (IPv4 address, IPv6 /64 prefix). */
  readonly perAddress?: number;
}

/**
 * Options of `ClientAuthRateLimitModule.forRoot()`. Limits are requests per minute, enforced as
 * token buckets (a burst of that many, refilled continuously), in memory, per instance.
 */
export interface ClientAuthRateLimitOptions {
  /** The token endpoint (`OAuthServerModule`'s `POST /oauth/token`). */
  readonly token?: EndpointRateLimits;
  /** Dynamic registration and its management endpoints (`/oauth/register`, RFC 7591/7592). */
  readonly registration?: Pick<EndpointRateLimits, 'perAddress'>;
  /** Bound on tracked buckets per limit (least recently used dropped first). Default 10000. */
  readonly maxTrackedKeys?: number;
  /**
   * The caller's address. Default `req.ip` (the socket address unless Express' `trust proxy`
   * is set — behind a proxy, set it or supply this function).
   */
  readonly addressOf?: (req: HttpRequestLike) => string | undefined;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** Injection token of the {@link ClientAuthRateLimitOptions}. */
export const CLIENT_AUTH_RATE_LIMIT_OPTIONS = Symbol('ClientAuthRateLimitOptions');
