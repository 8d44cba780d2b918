/**
 * The TypeORM persistence layer (SPEC S3, S5): entities, migrations, the client and replay
 * stores, the registry service and the at-rest cipher.
 */
export {
  AuditEventEntity,
  AuthFailureEntity,
  CLIENT_AUTH_ENTITIES,
  ClientCredentialEntity,
  ClientEntity,
  epochMillisTransformer,
  FederatedCredentialEntity,
  InitialAccessTokenEntity,
  RevokedTokenEntity,
  ServerSigningKeyEntity,
  TimestampColumn,
  UsedAssertionEntity,
} from './entities/index.js';
export type { ServerSigningKeyStatus } from './entities/index.js';
export {
  migrationsFor,
  POSTGRES_MIGRATIONS,
  PostgresInitialSchema1732350000000,
  SQLITE_MIGRATIONS,
  SqliteInitialSchema1732350000000,
} from './migrations/index.js';
export type { MigrationClass } from './migrations/index.js';
export {
  clientSecretAad,
  loadOrCreateKeyFile,
  parseSecretEncryptionKey,
  SecretCipher,
  SecretDecryptionError,
  signingKeyAad,
} from './secret-cipher.js';
export { REPLAY_KEY_MAX_LENGTH, TypeOrmReplayStore } from './typeorm-replay-store.js';
export type { TypeOrmReplayStoreOptions } from './typeorm-replay-store.js';
export { TypeOrmClientStore } from './typeorm-client-store.js';
export type { TypeOrmClientStoreOptions } from './typeorm-client-store.js';
export { toFederatedCredential, toRegisteredClient } from './client-mapper.js';
export { isUniqueViolation } from './database-errors.js';
export {
  audienceReadiness,
  ClientNotFoundError,
  ClientRegistryService,
  toClientRegistration,
} from './client-registry.service.js';
export type {
  AudienceReadiness,
  AuditEvent,
  AuthFailureRecord,
  ClientRegistration,
  ClientRegistryServiceOptions,
  CreateClientInput,
  CreateClientOptions,
  CreatedClient,
  CredentialValidity,
  ListClientsQuery,
  ListEventsQuery,
  Page,
  ReplaceClientOptions,
  StoredCredentialInfo,
} from './client-registry.service.js';
export {
  SECRET_METHODS,
  validateCreateInput,
  validateFederatedCredential,
  validatePublicJwk,
} from './client-metadata-validation.js';
export type { FederatedCredentialInput } from './client-metadata-validation.js';
export {
  consumeInitialAccessToken,
  InitialAccessTokenService,
  invalidInitialAccessToken,
} from './initial-access-token.service.js';
export type {
  InitialAccessTokenInfo,
  IssueInitialAccessTokenInput,
} from './initial-access-token.service.js';
export { ServerKeyService } from './server-key.service.js';
export type { LoadedServerKey, ServerKeyServiceOptions } from './server-key.service.js';
export { TypeOrmRevocationStore } from './typeorm-revocation-store.js';
