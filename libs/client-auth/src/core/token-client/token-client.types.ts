import type { ClientAssertionProvider } from '../signing/assertion-provider.interface.js';
import type { AssertionAudience } from '../signing/client-assertion-signer.js';
import type { SigningKeyInput } from '../signing/signing-key-input.js';
import type { FetchFunction } from './http.js';
import type { RetryPolicy } from './retry.js';

/** How the token client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2). */
export type OutgoingAuthMethod =
  'private_key_jwt' | 'client_secret_jwt' | 'client_secret_basic' | 'client_secret_post' | 'none';

/** The JWT bearer authorization grant (RFC 7523 §2.1). */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Options of the assertions the token client signs itself (`signingKey`, or a secret with `client_secret_jwt`). */
export interface TokenClientAssertionOptions {
  /** `aud`: `issuer` (default), `token_endpoint`, or a function of the request. */
  readonly audience?: AssertionAudience;
  /** `exp − iat` in seconds. Default 60. */
  readonly lifetimeSeconds?: number;
  /** The server's cap on assertion lifetime. Default 300. */
  readonly maxLifetimeSeconds?: number;
  /** JOSE `typ`; default `client-authentication+jwt` with the issuer audience; `false` for none. */
  readonly typ?: string | false;
  /** HMAC algorithm for `client_secret_jwt` with `clientSecret`. Default HS256. */
  readonly alg?: string;
}

/**
 * Options of a `TokenClient` (SPEC S7). Credentials: exactly one of `assertionProvider`,
 * `signingKey` and `clientSecret` (none for `authMethod: 'none'`); a secret together with a
 * provider or key is a configuration error.
 */
export interface TokenClientOptions {
  /** The client's `client_id`. */
  readonly clientId: string;
  /** The authorization server's issuer identifier (RFC 8414 §2); metadata is discovered from it. */
  readonly issuer: string;
  /** The token endpoint URL. Default: discovered from `issuer` (RFC 8414, then OpenID Discovery). */
  readonly tokenEndpoint?: string;
  /**
   * Authentication method. Default: `private_key_jwt` with `signingKey` / `assertionProvider`
   * (`client_secret_jwt` when the key is a secret), `client_secret_basic` with `clientSecret`.
   */
  readonly authMethod?: OutgoingAuthMethod;
  /** Produces `client_assertion` (a signer, a federated token callback, a projected token file). */
  readonly assertionProvider?: ClientAssertionProvider;
  /** A signing key; the client builds a `ClientAssertionSigner` with `assertion` options. */
  readonly signingKey?: SigningKeyInput;
  /**
   * The client secret: `client_secret_basic` (default), `client_secret_post`, or the HMAC key of
   * `client_secret_jwt`.
   */
  readonly clientSecret?: string;
  /** Assertion options used with `signingKey`, or with `clientSecret` and `client_secret_jwt`. */
  readonly assertion?: TokenClientAssertionOptions;
  /** Default `scope` of token requests (RFC 6749 §3.3). */
  readonly scope?: string | readonly string[];
  /** Default `resource` indicators of token requests (RFC 8707 §2). */
  readonly resource?: string | readonly string[];
  /** Default `audience` parameter, for servers that use one (not an RFC 6749 parameter). */
  readonly audience?: string;
  /** The fetch implementation. Default: the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** Timeout of each HTTP request, in ms. Default 10000. */
  readonly timeoutMs?: number;
  /** Retries of transient failures; `false` disables them. Default: 3 attempts, 200 ms → 5 s. */
  readonly retry?: Partial<RetryPolicy> | false;
  /** A cached token is refreshed this long before it expires (at most half its lifetime), in s. Default 30. */
  readonly expirySkewSeconds?: number;
  /** Lifetime assumed when a token response has no `expires_in`, in s. Default 60. */
  readonly defaultExpiresInSeconds?: number;
  /** How long discovered metadata is used before it is fetched again, in s. Default 3600. */
  readonly metadataTtlSeconds?: number;
  /** Most tokens cached (one per scope/resource/audience combination). Default 100. */
  readonly maxCachedTokens?: number;
  /** Allow plain-http issuer and token endpoint on non-loopback hosts (never in production). Default false. */
  readonly allowInsecureHttp?: boolean;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly clock?: () => number;
  /** Random source in [0, 1) for retry jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** One token request; fields left out take the client's defaults. */
export interface TokenRequest {
  /** Scopes; `[]` asks for none even when the client has a default. */
  readonly scope?: string | readonly string[];
  /** Resource indicators (RFC 8707); `[]` for none. */
  readonly resource?: string | readonly string[];
  /** `audience` parameter. */
  readonly audience?: string;
  /** `client_credentials` (default) or `jwt_bearer` (RFC 7523 §2.1, with `assertion`). */
  readonly grantType?: 'client_credentials' | 'jwt_bearer';
  /** The JWT authorization grant of `jwt_bearer` (RFC 7523 §2.1 `assertion`). */
  readonly assertion?: string;
  /** Ignore a cached token and obtain a new one. */
  readonly forceRefresh?: boolean;
  /** Stops waiting (the shared request itself continues for other callers). */
  readonly signal?: AbortSignal;
}

/** An access token obtained from the token endpoint (RFC 6749 §5.1). */
export interface AccessToken {
  /** The token: a bearer credential, never log it. */
  readonly accessToken: string;
  /** Always `Bearer` (RFC 6750); other token types are refused. */
  readonly tokenType: 'Bearer';
  /** When the token expires, epoch ms (from `expires_in`, counted from when the request was sent). */
  readonly expiresAt: number;
  /** `expires_in` as the server sent it, when it did. */
  readonly expiresIn?: number;
  /** Granted scope, when the server said (RFC 6749 §5.1). */
  readonly scope?: string;
  /** The whole response body. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** What the HTTP integrations need from a token client. */
export interface AccessTokenSource {
  /** A valid access token for `request` (cached, or obtained now). */
  getToken(request?: TokenRequest): Promise<AccessToken>;
  /**
   * Drops a cached token (after a 401 from an API). With `accessToken`, only a cache entry still
   * holding that token is dropped, so a newer token fetched meanwhile survives.
   */
  invalidate(accessToken?: string): void;
}
