/** Name of the Passport strategy: `AuthGuard('oauth-access-token')`. */
export const ACCESS_TOKEN_STRATEGY = 'oauth-access-token';

/** Metadata key of `@RequiredScopes()`. */
export const REQUIRED_SCOPES_METADATA = 'nestjs-client-auth:required-scopes';

/** Where the verified access token is kept on the request. */
export const VERIFIED_ACCESS_TOKEN = 'oauthAccessToken';

/** The default `realm` of the `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). */
export const DEFAULT_BEARER_REALM = 'api';

/** Where the realm of the route's challenge is kept on the request (set by the guard's service). */
export const BEARER_REALM = 'oauthBearerRealm';
