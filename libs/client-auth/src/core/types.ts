import type { JWK } from 'jose';

/** Client authentication methods (RFC 7591 §2, RFC 7523 §2.2, OpenID Connect Core §9). */
export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';

/** All authentication methods, in the order discovery documents list them. */
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
  'none',
];

/** Audience policy of SPEC S2.8. */
export type AudiencePolicy = 'compat' | 'strict';

/** The audience form an accepted assertion used (recorded per client, SPEC S2.8). */
export type AudienceForm =
  /** `aud` is the issuer identifier as a string: passes `strict`. */
  | 'issuer'
  /** `aud` is a one-member array holding the issuer: passes `strict` unless string-only is required. */
  | 'issuer_array'
  /** `aud` is, or contains, the token endpoint URL: `compat` only. */
  | 'token_endpoint'
  /** `aud` is, or contains, the URL of the endpoint being called: `compat` only. */
  | 'endpoint_url'
  /** `aud` is an array with the issuer among other values: `compat` only. */
  | 'issuer_among_others';

/** Status of a stored credential. */
export type CredentialStatus = 'active' | 'revoked';

/** A credential registered for a client: one key or one secret (SPEC S3). */
export interface ClientCredential {
  /** Stable identifier of the stored row. */
  readonly id: string;
  /** `public_key`: a JWK; `secret_digest`: basic/post secret digest; `secret`: raw HMAC secret. */
  readonly kind: 'public_key' | 'secret_digest' | 'secret';
  readonly kid?: string;
  readonly alg?: string;
  /** Public JWK, for `public_key`. */
  readonly jwk?: JWK;
  /** Digest of the secret (`sha256:<base64url>`), for `secret_digest`. */
  readonly secretDigest?: string;
  /** Raw secret (decrypted from storage), for `secret` (`client_secret_jwt`). */
  readonly secret?: string;
  readonly notBefore?: Date;
  readonly expiresAt?: Date;
  readonly status: CredentialStatus;
}

/** How a federated credential treats a reused token `jti` (SPEC S9). */
export type FederatedReplayPolicy =
  /** Each token is accepted once (its `jti` is consumed). */
  | 'single_use'
  /** A token may be presented again until it expires (platforms that reuse tokens). */
  | 'reuse_within_lifetime';

/**
 * Trust in an external issuer's tokens as the client's assertion (SPEC S9): a workload token
 * (Kubernetes service account, CI platform, cloud workload) authenticates the client when its
 * issuer, subject, audience and required claims match.
 */
export interface FederatedCredential {
  readonly id: string;
  readonly clientId: string;
  /** The token's `iss`, compared exactly. */
  readonly issuer: string;
  /** Where the issuer's keys are; absent with `jwks` absent: OpenID discovery of `issuer`. */
  readonly jwksUri?: string;
  /** The issuer's keys given statically. */
  readonly jwks?: { readonly keys: readonly JWK[] };
  /**
   * The token's `sub`: exact, or a pattern where `*` stands for one whole segment between `:`
   * or `/` separators (`system:serviceaccount:payments:*`).
   */
  readonly subject: string;
  /** The audience the token must carry (one of its `aud` values). */
  readonly audience: string;
  /** Claims the token must carry with exactly these string values (e.g. a namespace, a repository). */
  readonly requiredClaims?: Readonly<Record<string, string>>;
  /** Cap on the token's lifetime in seconds (`exp` − now, `exp` − `iat`). Default 3600. */
  readonly maxLifetimeSeconds?: number;
  readonly replay: FederatedReplayPolicy;
  readonly status: CredentialStatus;
  readonly notBefore?: Date;
  readonly expiresAt?: Date;
  /** Operator's label. */
  readonly name?: string;
  /** When it last authenticated the client (bookkeeping; not used by verification). */
  readonly lastUsedAt?: Date;
}

/** A client as client authentication needs it (SPEC S2, S3). */
export interface RegisteredClient {
  readonly clientId: string;
  readonly enabled: boolean;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** RFC 7591 `token_endpoint_auth_signing_alg`: when set, the only algorithm accepted. */
  readonly tokenEndpointAuthSigningAlg?: string;
  /** RFC 7591 `jwks_uri`, for `private_key_jwt` clients whose keys are remote. */
  readonly jwksUri?: string;
  /** Keys and secrets registered for the client. */
  readonly credentials: readonly ClientCredential[];
  /** External issuers whose tokens authenticate the client (SPEC S9). */
  readonly federatedCredentials?: readonly FederatedCredential[];
  /** Per-client override of the audience policy (SPEC S2.8). */
  readonly audiencePolicy?: AudiencePolicy;
  /** When true, `aud` must be a string (a one-member array is refused), as FAPI profiles demand. */
  readonly requireStringAudience?: boolean;
  /** Per-client override of the assertion lifetime cap, in seconds (SPEC S2.6). */
  readonly maxAssertionLifetimeSeconds?: number;
  /** Space-separated scopes the client may request. */
  readonly scope?: string;
  /** RFC 7591 `grant_types`. */
  readonly grantTypes: readonly string[];
  /** Other registered metadata (client_name, contacts, software_id, …). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What a successful client authentication yields (the value of `@AuthenticatedClient()`). */
export interface AuthenticatedClient {
  readonly clientId: string;
  /** The method the request used. */
  readonly method: TokenEndpointAuthMethod;
  /** `kid` of the key or secret that verified the request, when it has one. */
  readonly keyId?: string;
  /** Stored credential id that verified the request, when one did. */
  readonly credentialId?: string;
  /** The registration the request was checked against. */
  readonly client: RegisteredClient;
  /** Facts about the verified assertion (JWT methods only; not for federated tokens). */
  readonly assertion?: VerifiedAssertionInfo;
  /** The workload token that authenticated the client through a federated credential (SPEC S9). */
  readonly federated?: {
    readonly issuer: string;
    readonly subject: string;
    readonly jti?: string;
    readonly exp: number;
  };
}

/** Facts about an accepted client assertion. */
export interface VerifiedAssertionInfo {
  readonly alg: string;
  readonly jti: string;
  readonly exp: number;
  readonly iat?: number;
  readonly audienceForm: AudienceForm;
  /** The `typ` header as sent (undefined when absent). */
  readonly typ?: string;
}
