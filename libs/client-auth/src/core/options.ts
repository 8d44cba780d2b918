import type { AudiencePolicy, TokenEndpointAuthMethod } from './types.js';

/** Settings of incoming client authentication (SPEC S2). Every field but `issuer` has a default. */
export interface ClientAuthenticationSettings {
  /** The authorization server's issuer identifier (RFC 8414 §2): the audience `strict` demands. */
  readonly issuer: string;
  /** The token endpoint URL, accepted as `aud` under `compat`. Default: `${issuer}/oauth/token`. */
  readonly tokenEndpoint?: string;
  /** Global audience policy (SPEC S2.8). Default `compat`. */
  readonly audiencePolicy?: AudiencePolicy;
  /** Clock leeway for `exp`, `nbf`, `iat`, in seconds. Default 30. */
  readonly clockLeewaySeconds?: number;
  /** Cap on assertion lifetime (`exp − now`, `exp − iat`), in seconds. Default 300. */
  readonly maxAssertionLifetimeSeconds?: number;
  /** Cap on the assertion's size before parsing, in bytes. Default 8192. */
  readonly maxAssertionBytes?: number;
  /** Methods accepted anywhere unless an endpoint narrows them. Default: all but `none`. */
  readonly allowedMethods?: readonly TokenEndpointAuthMethod[];
  /** How many registered keys are tried when the assertion has no `kid`. Default 5. */
  readonly maxKeysWithoutKid?: number;
}

/** Defaults of {@link ClientAuthenticationSettings}. */
export const CLIENT_AUTHENTICATION_DEFAULTS = {
  audiencePolicy: 'compat' as AudiencePolicy,
  clockLeewaySeconds: 30,
  maxAssertionLifetimeSeconds: 300,
  maxAssertionBytes: 8192,
  allowedMethods: [
    'private_key_jwt',
    'client_secret_jwt',
    'client_secret_basic',
    'client_secret_post',
  ] as readonly TokenEndpointAuthMethod[],
  maxKeysWithoutKid: 5,
} as const;

/** The URN of RFC 7523 §2.2 client assertions. */
export const JWT_BEARER_CLIENT_ASSERTION_TYPE =
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The JWT bearer authorization grant type (RFC 7523 §2.1). */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
