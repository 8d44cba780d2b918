import { DependencyUnavailableError } from '../errors.js';
import { JwksCache, type JwksCacheOptions } from '../jwks/jwks-cache.js';
import type { RemoteKeySetProvider } from '../jwks/remote-key-set.interface.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import { AccessTokenError } from './access-token-error.js';
import {
  RemoteIssuerKeySource,
  StaticKeySource,
  type AccessTokenKeySource,
  type IssuerDiscoveryOptions,
  type JwkSetInput,
} from './issuer-key-source.js';
import { requireScopes } from './scopes.js';
import { TokenIntrospector, type TokenIntrospectionOptions } from './token-introspector.js';
import {
  checkAccessTokenClaims,
  looksLikeJwt,
  resolveAccessTokenValidation,
  verifyJwtAccessToken,
  type AccessTokenValidation,
  type ResolvedAccessTokenValidation,
  type VerifiedAccessToken,
} from './verify-access-token.js';

/**
 * How tokens are verified:
 * - `jwt`: every token is an RFC 9068 JWT checked locally against the issuer's keys;
 * - `introspection`: every token is sent to the RFC 7662 introspection endpoint (opaque tokens);
 * - `auto`: tokens shaped as a compact JWS are checked locally, any other is introspected.
 */
export type AccessTokenVerificationMode = 'jwt' | 'introspection' | 'auto';

/** Options of {@link AccessTokenVerifier} (SPEC S8). */
export interface AccessTokenVerifierOptions extends AccessTokenValidation {
  /**
   * The issuer's keys, handed over directly: a JWK Set, or a function returning the current one
   * (an authorization server verifying its own tokens). Exclusive with `jwksUri` and `keySource`.
   */
  readonly jwks?: JwkSetInput;
  /** The issuer's `jwks_uri`. Default: discovered from the issuer's metadata (RFC 8414). */
  readonly jwksUri?: string;
  /** A key source of your own. Exclusive with `jwks` and `jwksUri`. */
  readonly keySource?: AccessTokenKeySource;
  /** The remote key set cache to use (shared with other verifiers). Default: a new `JwksCache`. */
  readonly keySets?: RemoteKeySetProvider;
  /**
   * Options of the default `JwksCache` (TTL floor and ceiling, refetch cooldown, stale bound) and
   * of its fetcher (`fetch.allowHosts` for plain-http and private hosts in development).
   */
  readonly jwksCache?: JwksCacheOptions;
  /** How the issuer's metadata is discovered when no `jwksUri` is given. */
  readonly discovery?: IssuerDiscoveryOptions;
  /** RFC 7662 introspection, for opaque tokens. */
  readonly introspection?: TokenIntrospectionOptions;
  /**
   * Default: `jwt` without `introspection`; with it, `introspection`, or `auto` when a key source
   * (`jwks`, `jwksUri`, `keySource`) is configured too.
   */
  readonly mode?: AccessTokenVerificationMode;
}

/** Per-call options of {@link AccessTokenVerifier.verify}. */
export interface AccessTokenVerifyOptions {
  /** Scopes the token must all carry (else `insufficient_scope`). */
  readonly requiredScopes?: readonly string[];
  /** The current time. Default `new Date()`. */
  readonly now?: Date;
}

/**
 * Verifies access tokens presented to a resource server (SPEC S8): RFC 9068 JWTs against the
 * issuer's keys (see `verifyAccessToken`), opaque tokens through RFC 7662 introspection (cached,
 * see `TokenIntrospector`), or both (`mode`). Either way `iss`, `aud` (always), `exp`, `nbf` and
 * `iat` are checked with the clock leeway, and scopes are parsed from `scope`.
 *
 * Refusals are `AccessTokenError`s (`invalid_token`, or `insufficient_scope` for
 * `requiredScopes`); an issuer whose keys, metadata or introspection endpoint cannot be reached
 * is a `DependencyUnavailableError` (503).
 *
 * @example
 * ```ts
 * const verifier = new AccessTokenVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 * });
 * const token = await verifier.verify(bearer, { requiredScopes: ['reports:read'] });
 * ```
 */
export class AccessTokenVerifier {
  /** The settings in force, after defaults. */
  readonly validation: ResolvedAccessTokenValidation;
  /** The verification mode in force. */
  readonly mode: AccessTokenVerificationMode;
  /** The issuer's key source (undefined in `introspection` mode). */
  readonly keySource?: AccessTokenKeySource;
  /** The introspection client (undefined in `jwt` mode). */
  readonly introspector?: TokenIntrospector;

  constructor(options: AccessTokenVerifierOptions) {
    this.validation = resolveAccessTokenValidation(options);
    const keyOptions = [options.jwks, options.jwksUri, options.keySource].filter(
      (value) => value !== undefined,
    );
    if (keyOptions.length > 1) {
      throw new ClientAuthConfigurationError(
        'configure at most one of jwks, jwksUri and keySource',
      );
    }
    const mode =
      options.mode ??
      (options.introspection ? (keyOptions.length > 0 ? 'auto' : 'introspection') : 'jwt');
    if (mode !== 'jwt' && !options.introspection) {
      throw new ClientAuthConfigurationError(`mode ${mode} needs the introspection options`);
    }
    this.mode = mode;
    if (mode !== 'introspection') {
      this.keySource =
        options.keySource ??
        (options.jwks !== undefined
          ? new StaticKeySource(options.jwks)
          : new RemoteIssuerKeySource({
              issuer: options.issuer,
              ...(options.jwksUri !== undefined && { jwksUri: options.jwksUri }),
              keySets: options.keySets ?? new JwksCache(options.jwksCache),
              ...(options.discovery && { discovery: options.discovery }),
            }));
    }
    if (options.introspection && mode !== 'jwt') {
      this.introspector = new TokenIntrospector(options.introspection, options.issuer);
    }
  }

  /** Verifies `token` (see the class description). */
  async verify(
    token: string,
    options: AccessTokenVerifyOptions = {},
  ): Promise<VerifiedAccessToken> {
    const now = options.now ?? new Date();
    const useJwt = this.mode === 'jwt' || (this.mode === 'auto' && looksLikeJwt(token));
    const verified = useJwt
      ? await verifyJwtAccessToken(token, this.validation, this.keySource!, now)
      : await this.#introspect(token, now);
    if (options.requiredScopes) requireScopes(verified, options.requiredScopes);
    return verified;
  }

  async #introspect(token: string, now: Date): Promise<VerifiedAccessToken> {
    if (token.length > this.validation.maxTokenBytes) {
      throw new AccessTokenError({
        reason: 'token_too_large',
        detail: `the token exceeds ${this.validation.maxTokenBytes} bytes`,
      });
    }
    let answer;
    try {
      answer = await this.introspector!.introspect(token);
    } catch (cause) {
      throw new DependencyUnavailableError('introspection', { cause });
    }
    // RFC 7662 §2.2: an inactive token carries no other information.
    if (!answer.active) {
      throw new AccessTokenError({ reason: 'token_inactive', detail: 'introspection: inactive' });
    }
    const checked = checkAccessTokenClaims(answer, this.validation, now, 'introspection');
    return Object.freeze({ source: 'introspection' as const, ...checked, claims: answer });
  }
}
