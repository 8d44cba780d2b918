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
