import type { CanActivate, Type } from '@nestjs/common';
import type { HttpRequestLike } from '../nest/http-platform.js';
import type { AudiencePolicy, TokenEndpointAuthMethod } from '../core/types.js';

/** Options of {@link ClientRegistryApiModule.forRoot}. */
export interface ClientRegistryApiOptions {
  /**
   * Base URL of this server, used to build `registration_client_uri` (RFC 7592 §3). Usually the
   * issuer identifier.
   */
  readonly baseUrl: string;
  /** The server's audience policy, for the readiness view (SPEC S2.8). Default `compat`. */
  readonly audiencePolicy?: AudiencePolicy;
  /** RFC 7591/7592 endpoints at `/oauth/register`. */
  readonly registration?: RegistrationEndpointOptions;
  /** The admin REST API at `/admin`. */
  readonly admin?: AdminApiOptions;
}

/** Options of the registration endpoints (SPEC S3). */
export interface RegistrationEndpointOptions {
  /** Serve `/oauth/register`. Default true. */
  readonly enabled?: boolean;
  /**
   * A static initial access token (`INITIAL_ACCESS_TOKEN`), compared in constant time, valid
   * for any number of registrations. Tokens issued through the admin API work as well.
   */
  readonly initialAccessToken?: string;
  /**
   * Accept registrations without an initial access token (RFC 7591 §3 open registration).
   * Default false; turn on only where anyone may register a client.
   */
  readonly openRegistration?: boolean;
  /**
   * Methods a client may register. Default: `private_key_jwt`, `client_secret_jwt`,
   * `client_secret_basic`, `client_secret_post` (not `none`).
   */
  readonly authMethods?: readonly TokenEndpointAuthMethod[];
}

/** Options of the admin REST API (SPEC S3). */
export interface AdminApiOptions {
  /** Serve `/admin`. Default true. */
  readonly enabled?: boolean;
  /**
   * The admin bearer token (`ADMIN_TOKEN`), compared in constant time. Without it (and without
   * `guard`) every admin request is refused.
   */
  readonly token?: string;
  /**
   * Replaces the token check with the host application's own guard (its `canActivate` decides
   * alone). It is resolved by Nest, so it may inject the application's services.
   */
  readonly guard?: Type<CanActivate>;
  /**
   * Names the operator of a request for the audit trail. Default: `req.user.sub`, `req.user.id`
   * or `req.user.username` when a guard set `req.user`, else `admin`.
   */
  readonly actor?: (req: HttpRequestLike) => string;
}

/** Injection token of the resolved {@link ClientRegistryApiOptions}. */
export const CLIENT_REGISTRY_API_OPTIONS = Symbol('ClientRegistryApiOptions');

/** Injection token of the guard deciding admin access (see {@link AdminApiOptions.guard}). */
export const ADMIN_ACCESS_GUARD = Symbol('AdminAccessGuard');

/** Methods registrable by default: every method but `none`. */
export const DEFAULT_REGISTRATION_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
];
