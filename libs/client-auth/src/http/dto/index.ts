/**
 * DTOs of the registry HTTP API (SPEC S3): request classes are the single source of validation
 * and OpenAPI documentation; response classes document the wire shapes. Wire names are
 * snake_case as in RFC 7591. Also re-exports the validation pipe and field rules.
 */
export {
  AUDIENCE_POLICIES,
  AdminCreateClientDto,
  AdminUpdateClientDto,
  CLIENT_STATUSES,
  ListClientsQueryDto,
} from './admin-client.dto.js';
export {
  AddCredentialDto,
  ExpireCredentialDto,
  MAX_OVERLAP_SECONDS,
  RotateKeyDto,
  RotateSecretDto,
} from './admin-credential.dto.js';
export {
  AUDIENCE_FORMS,
  AuditEventListDto,
  AuditEventResponseDto,
  AuthFailureListDto,
  AuthFailureResponseDto,
  ListQueryDto,
  ReadinessResponseDto,
} from './admin-diagnostics.dto.js';
export {
  INITIAL_ACCESS_TOKEN_STATUSES,
  InitialAccessTokenResponseDto,
  IssueInitialAccessTokenDto,
} from './admin-token.dto.js';
export { ClientMetadataDto, JWK_SET_SCHEMA } from './client-metadata.dto.js';
export type { JwkSetDocument } from './client-metadata.dto.js';
export {
  CREDENTIAL_DISPLAY_STATUSES,
  ClientPageDto,
  ClientResponseDto,
  CredentialResponseDto,
  PageDto,
  credentialDisplayStatus,
} from './client-response.dto.js';
export type { CredentialDisplayStatus } from './client-response.dto.js';
export {
  RegisteredClientMetadataDto,
  RegistrationResponseDto,
  RegistrationUpdateDto,
} from './registration.dto.js';
export { FederatedCredentialDto } from './federated-credential.dto.js';
export * from '../validation/index.js';
