/**
 * Remote key sets (SPEC S3 `jwks_uri` admission, S6): the SSRF policy, the fetcher, the JWK Set
 * validator and the cache.
 */
export { InvalidJwksError, JwksFetchError, JwksUriRejectedError } from './jwks-errors.js';
export type { JwksFetchReason, JwksUriRejectionReason } from './jwks-errors.js';

export {
  MAX_JWKS_URI_LENGTH,
  METADATA_HOST_NAMES,
  admitJwksUri,
  checkJwksUri,
  classifyAddress,
  isAllowListedHost,
  isAllowedAddress,
  isMetadataHostName,
  normalizeHost,
  resolveAllowedAddresses,
  systemResolver,
} from './ssrf-policy.js';
export type { AddressClass, JwksResolver, ResolvedAddress, SsrfPolicy } from './ssrf-policy.js';

export { DEFAULT_MAX_JWKS_KEYS, parseJwks, parsePublicJwk } from './jwks-validation.js';
export type { ParseJwksOptions } from './jwks-validation.js';

export {
  JWKS_FETCH_DEFAULTS,
  JwksFetcher,
  fetchJwks,
  isJsonMediaType,
  parseCacheControl,
} from './jwks-fetcher.js';
export type { CacheDirectives, JwksFetchResult, JwksFetcherOptions } from './jwks-fetcher.js';

export { JWKS_CACHE_DEFAULTS, JwksCache } from './jwks-cache.js';
export type { JwksCacheOptions, JwksCacheStats } from './jwks-cache.js';
export { createJwksUriAdmission } from './jwks-uri-admission.js';
export type { JwksUriAdmission } from './jwks-uri-admission.js';
