/**
 * Validation of the registry HTTP API (SPEC S3): field rules, the decorators that attach them to
 * DTOs, and the pipe that turns a failure into an RFC 7591 §3.2.2 / RFC 6749 §5.2 error.
 */
export {
  DateTimeField,
  FieldRule,
  OptionalField,
  QueryInteger,
  parseRfc3339,
} from './field-rule.decorator.js';
export {
  CLIENT_METADATA_LIMITS,
  REGISTRABLE_SIGNING_ALGORITHMS,
  SUPPORTED_GRANT_TYPES,
  arrayOf,
  atPath,
  boundedString,
  clientId,
  contacts,
  grantTypes,
  httpsUrl,
  integerInRange,
  isBooleanValue,
  isDateTime,
  jwks,
  jwksUri,
  laterThan,
  oneOf,
  publicJwk,
  quoteToken,
  redirectUri,
  redirectUris,
  responseTypes,
  scope,
  shortText,
  signingAlgorithm,
  softwareStatement,
} from './field-rules.js';
export type { FieldCheck } from './field-rules.js';
export {
  MAX_FIELD_NESTING,
  OAuthValidationPipe,
  adminErrorCodeFor,
  firstValidationProblem,
  oauthValidationPipe,
  registrationErrorCodeFor,
} from './oauth-validation.pipe.js';
export type {
  OAuthValidationPipeOptions,
  ValidationErrorCodeFor,
  ValidationProblem,
} from './oauth-validation.pipe.js';
