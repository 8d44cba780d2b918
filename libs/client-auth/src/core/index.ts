/**
 * The framework-free core of nestjs-client-auth (`nestjs-client-auth/core`): RFC 7523 client
 * authentication, its ports and its error model, usable without Nest.
 */
export {
  ClientAuthError,
  DependencyUnavailableError,
  GENERIC_CLIENT_AUTH_DESCRIPTION,
  OAuthError,
  httpStatusFor,
} from './errors.js';
export type { ClientAuthErrorInit, ClientAuthReason, OAuthErrorCode } from './errors.js';

export { TOKEN_ENDPOINT_AUTH_METHODS } from './types.js';
export type {
  AudienceForm,
  AudiencePolicy,
  AuthenticatedClient,
  ClientCredential,
  CredentialStatus,
  FederatedCredential,
  FederatedReplayPolicy,
  RegisteredClient,
  TokenEndpointAuthMethod,
  VerifiedAssertionInfo,
} from './types.js';

export { CLIENT_AUTHENTICATION_DEFAULTS, JWT_BEARER_CLIENT_ASSERTION_TYPE } from './options.js';
export type { ClientAuthenticationSettings } from './options.js';

export { ClientStore } from './clients/client-store.interface.js';
export type {
  ClientAuthenticationFailure,
  ClientAuthenticationSuccess,
} from './clients/client-store.interface.js';
export { InMemoryClientStore } from './clients/in-memory-client-store.js';
export type { InMemoryClientStoreOptions } from './clients/in-memory-client-store.js';

export { ReplayStore } from './replay/replay-store.interface.js';
export { MemoryReplayStore } from './replay/memory-replay-store.js';
export type { MemoryReplayStoreOptions } from './replay/memory-replay-store.js';
export { replayKey } from './replay/replay-key.js';

export type { KeySetSnapshot, RemoteKeySetProvider } from './jwks/remote-key-set.interface.js';
export * from './jwks/index.js';

export {
  digestSecret,
  generateClientSecret,
  generateOpaqueToken,
  secretMatchesDigest,
} from './crypto/secret-digest.js';
export { importHmacKey, importVerificationKey } from './crypto/key-import.js';
export {
  hmacKeyObject,
  publicKeyObject,
  signCompactJws,
  verifyJwsSignature,
} from './crypto/jws.js';

export {
  CLIENT_SECRET_JWT_ALGORITHMS,
  MIN_RSA_MODULUS_BITS,
  PRIVATE_KEY_JWT_ALGORITHMS,
  algorithmNamesMatch,
  algorithmsFor,
  hashBitsFor,
  isAlgorithmAllowed,
  jwkFitsAlgorithm,
  methodForAlgorithm,
  minimumHmacSecretBytes,
} from './assertion/algorithms.js';
export type { AssertionAuthMethod } from './assertion/algorithms.js';
export { checkAudience, isClientAuthenticationTyp } from './assertion/audience-policy.js';
export type { AudienceContext } from './assertion/audience-policy.js';
export { decodeAssertion } from './assertion/decode-assertion.js';
export type { DecodedAssertion } from './assertion/decode-assertion.js';
export { extractClientCredentials } from './assertion/parse-client-credentials.js';
export type {
  CredentialSource,
  PresentedCredentials,
} from './assertion/parse-client-credentials.js';
export { resolveClientAuthenticationSettings } from './assertion/resolve-settings.js';
export type { ResolvedClientAuthenticationSettings } from './assertion/resolve-settings.js';
export { verifyClientAssertion } from './assertion/verify-client-assertion.js';
export type { AssertionContext, VerifiedAssertion } from './assertion/verify-client-assertion.js';

export { ClientAuthenticator } from './authenticate-client.js';
export type {
  ClientAuthObserver,
  ClientAuthenticationRequest,
  ClientAuthenticatorOptions,
} from './authenticate-client.js';

// Outgoing (SPEC S7)
export {
  AssertionProviderError,
  ClientAuthConfigurationError,
  DiscoveryError,
  OutgoingAuthError,
  SigningKeyError,
  TokenEndpointError,
  TokenRequestError,
  TokenResponseError,
} from './outgoing/outgoing-errors.js';
export type { OutgoingAuthErrorCode, TokenEndpointErrorInit } from './outgoing/outgoing-errors.js';
export { createAuthorizedFetch } from './outgoing/authorized-fetch.js';
export type { AuthorizedFetchOptions } from './outgoing/authorized-fetch.js';
export {
  ClientAssertionProvider,
  isClientAssertionProvider,
} from './signing/assertion-provider.interface.js';
export type { ClientAssertionContext } from './signing/assertion-provider.interface.js';
export {
  CLIENT_AUTHENTICATION_JWT_TYP,
  DEFAULT_ASSERTION_LIFETIME_SECONDS,
  DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS,
  resolveAssertionLifetime,
  signClientAssertion,
} from './signing/sign-client-assertion.js';
export type { SignClientAssertionOptions } from './signing/sign-client-assertion.js';
export { ClientAssertionSigner } from './signing/client-assertion-signer.js';
export type {
  AssertionAudience,
  ClientAssertionSignerOptions,
} from './signing/client-assertion-signer.js';
export {
  callbackSigningKey,
  importPrivateSigningKey,
  importSecretSigningKey,
  isSigningKeySource,
} from './signing/signing-key.js';
export type {
  AssertionSigningKey,
  CallbackSigningKeyOptions,
  PrivateKeyMaterial,
  PrivateSigningKeyOptions,
  SecretSigningKeyOptions,
  SignatureCallback,
  SigningKeySource,
} from './signing/signing-key.js';
export {
  DEFAULT_KEY_FILE_CHECK_INTERVAL_MS,
  FileSigningKeySource,
  parseKeyFile,
} from './signing/file-signing-key.js';
export type { FileSigningKeyOptions } from './signing/file-signing-key.js';
export { createSigningKeySource } from './signing/signing-key-input.js';
export type { SigningKeyInput } from './signing/signing-key-input.js';
export {
  derToJoseSignature,
  ecdsaSignatureLength,
  normalizeEcdsaSignature,
} from './signing/ecdsa-signature.js';
export type { EcdsaSignatureFormat } from './signing/ecdsa-signature.js';
export { FederatedTokenAssertionProvider } from './signing/federated-token-assertion-provider.js';
export type { FederatedTokenAssertionProviderOptions } from './signing/federated-token-assertion-provider.js';
export { ProjectedTokenFileAssertionProvider } from './signing/projected-token-file-assertion-provider.js';
export type { ProjectedTokenFileAssertionProviderOptions } from './signing/projected-token-file-assertion-provider.js';
export { readJwtExpiry } from './signing/jwt-expiry.js';
export { TokenClient } from './token-client/token-client.js';
export { JWT_BEARER_GRANT_TYPE } from './token-client/token-client.types.js';
export type {
  AccessToken,
  AccessTokenSource,
  OutgoingAuthMethod,
  TokenClientAssertionOptions,
  TokenClientOptions,
  TokenRequest,
} from './token-client/token-client.types.js';
export {
  discoverAuthorizationServer,
  discoveryUrls,
  metadataProblem,
} from './token-client/discovery.js';
export type { AuthorizationServerMetadata, DiscoveryOptions } from './token-client/discovery.js';
export {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  parseRetryAfter,
  resolveRetryPolicy,
} from './token-client/retry.js';
export type { RetryPolicy } from './token-client/retry.js';
export type { FetchFunction } from './token-client/http.js';

// Authorization server (SPEC S4)
export { JwtBearerGrantError, verifyJwtBearerGrant } from './grants/jwt-bearer-grant.js';
export type {
  JwtBearerGrantContext,
  JwtBearerGrantReason,
  TrustedIssuer,
  VerifiedJwtBearerGrant,
} from './grants/jwt-bearer-grant.js';
export { signAccessToken } from './tokens/access-token.js';
export type {
  AccessTokenContent,
  IssuedAccessToken,
  ServerSigningKey,
} from './tokens/access-token.js';
export { grantedResources, grantedScope } from './tokens/scope.js';
export { MemoryRevocationStore, RevocationStore } from './tokens/revocation-store.interface.js';

// Resource server (SPEC S8)
export {
  ACCESS_TOKEN_DESCRIPTIONS,
  AccessTokenError,
  accessTokenErrorCode,
} from './access-token/access-token-error.js';
export type { AccessTokenErrorInit, AccessTokenReason } from './access-token/access-token-error.js';
export {
  DEFAULT_MAX_ACCESS_TOKEN_BYTES,
  bearerChallenge,
  extractBearerToken,
} from './access-token/bearer-token.js';
export type {
  BearerChallengeError,
  BearerTokenRequest,
  ExtractBearerTokenOptions,
} from './access-token/bearer-token.js';
export { missingScopes, parseScope, requireScopes } from './access-token/scopes.js';
export {
  ISSUER_DISCOVERY_DEFAULTS,
  RemoteIssuerKeySource,
  StaticKeySource,
} from './access-token/issuer-key-source.js';
export type {
  AccessTokenKeySource,
  IssuerDiscoveryOptions,
  JwkSet,
  JwkSetInput,
  RemoteIssuerKeySourceOptions,
} from './access-token/issuer-key-source.js';
export {
  DEFAULT_ACCESS_TOKEN_LEEWAY_SECONDS,
  checkAccessTokenClaims,
  looksLikeJwt,
  resolveAccessTokenValidation,
  verifyAccessToken,
  verifyJwtAccessToken,
} from './access-token/verify-access-token.js';
export type {
  AccessTokenValidation,
  ResolvedAccessTokenValidation,
  VerifiedAccessToken,
  VerifyAccessTokenContext,
} from './access-token/verify-access-token.js';
export {
  IntrospectionError,
  MAX_NEGATIVE_CACHE_TTL_SECONDS,
  TOKEN_INTROSPECTION_DEFAULTS,
  TokenIntrospector,
} from './access-token/token-introspector.js';
export type {
  IntrospectionAssertionContext,
  IntrospectionResponse,
  TokenIntrospectionOptions,
  TokenIntrospectorStats,
} from './access-token/token-introspector.js';
export { AccessTokenVerifier } from './access-token/access-token-verifier.js';
export type {
  AccessTokenVerificationMode,
  AccessTokenVerifierOptions,
  AccessTokenVerifyOptions,
} from './access-token/access-token-verifier.js';

// Federated credentials (SPEC S9)
export { FederatedIssuerDiscovery } from './federation/issuer-discovery.js';
export type { FederatedIssuerDiscoveryOptions } from './federation/issuer-discovery.js';
export { subjectMatches, subjectPatternProblem } from './federation/subject-pattern.js';
export {
  DEFAULT_FEDERATED_MAX_LIFETIME_SECONDS,
  nearMissIssuer,
  verifyFederatedAssertion,
} from './federation/verify-federated-assertion.js';
export type {
  FederatedAssertionContext,
  VerifiedFederatedAssertion,
} from './federation/verify-federated-assertion.js';
