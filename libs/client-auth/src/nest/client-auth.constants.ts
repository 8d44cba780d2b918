/** Name of the Passport strategy: `AuthGuard('oauth-client')`. */
export const CLIENT_AUTH_STRATEGY = 'oauth-client';

/** Metadata key of `@ClientAuthMethods()`. */
export const CLIENT_AUTH_METHODS_METADATA = 'nestjs-client-auth:methods';

/** Response and request header carrying the request id (SPEC S2.9). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Injection token of the `RemoteKeySetProvider` used for `jwks_uri` clients. */
export const CLIENT_KEY_SETS = Symbol('ClientKeySets');

/**
 * Injection token of an optional `ClientAuthObserver` (logs, metrics) that
 * `ClientAuthenticationService` notifies of every outcome, in addition to the `observer` option.
 * `ClientAuthMetricsModule` provides it globally.
 */
export const CLIENT_AUTH_OBSERVER = Symbol('ClientAuthObserver');
