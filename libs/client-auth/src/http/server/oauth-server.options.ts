import type { TrustedIssuer } from '../../core/grants/jwt-bearer-grant.js';
import type { ServerKeyServiceOptions } from '../../persistence/server-key.service.js';

/** Who may introspect a token (RFC 7662 §4). */
export type IntrospectionPolicy =
  /** A client sees only tokens issued to it (default). */
  | 'own'
  /** Any authenticated client sees any token (resource servers sharing one client). */
  | 'all'
  /** Decide per request: `clientId` introspects a token issued to `tokenClientId`. */
  | ((clientId: string, tokenClientId: string) => boolean);

/** Options of {@link OAuthServerModule.forRoot}. */
export interface OAuthServerOptions {
  /** Issuer identifier (RFC 8414 §2); endpoints are `<issuer>/oauth/…`. */
  readonly issuer: string;
  /** Access tokens (RFC 9068). */
  readonly accessToken?: {
    /** Lifetime in seconds. Default 300. */
    readonly ttlSeconds?: number;
    /** `aud` when the request names no resource. Default: the issuer. */
    readonly audience?: string;
  };
  /**
   * RFC 8707 resource indicators served by this server: a token request's `resource` values must
   * be among them and become the token's `aud`. Absent: `resource` is refused (`invalid_target`).
   */
  readonly resources?: readonly string[];
  /** Issuers whose JWTs are accepted as RFC 7523 §2.1 grants. Absent: the grant is not offered. */
  readonly trustedIssuers?: readonly TrustedIssuer[];
  /** Limits of the JWT bearer grant. */
  readonly jwtBearer?: {
    /** Default 30. */
    readonly leewaySeconds?: number;
    /** Default 300. */
    readonly maxLifetimeSeconds?: number;
  };
  /** RFC 7662 introspection at `/oauth/introspect`. */
  readonly introspection?: { readonly enabled?: boolean; readonly allow?: IntrospectionPolicy };
  /** RFC 7009 revocation at `/oauth/revoke`. */
  readonly revocation?: { readonly enabled?: boolean };
  /** Server signing keys (generation, rotation overlap, configured keys). */
  readonly keys?: ServerKeyServiceOptions;
}

/** Injection token of the {@link OAuthServerOptions}. */
export const OAUTH_SERVER_OPTIONS = Symbol('OAuthServerOptions');
