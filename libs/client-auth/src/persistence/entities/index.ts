import { AuditEventEntity } from './audit-event.entity.js';
import { AuthFailureEntity } from './auth-failure.entity.js';
import { ClientCredentialEntity } from './client-credential.entity.js';
import { ClientEntity } from './client.entity.js';
import { FederatedCredentialEntity } from './federated-credential.entity.js';
import { InitialAccessTokenEntity } from './initial-access-token.entity.js';
import { RevokedTokenEntity } from './revoked-token.entity.js';
import { ServerSigningKeyEntity } from './server-signing-key.entity.js';
import { UsedAssertionEntity } from './used-assertion.entity.js';

export { AuditEventEntity } from './audit-event.entity.js';
export { AuthFailureEntity } from './auth-failure.entity.js';
export { ClientCredentialEntity } from './client-credential.entity.js';
export { ClientEntity } from './client.entity.js';
export { FederatedCredentialEntity } from './federated-credential.entity.js';
export { InitialAccessTokenEntity } from './initial-access-token.entity.js';
export { RevokedTokenEntity } from './revoked-token.entity.js';
export {
  ServerSigningKeyEntity,
  type ServerSigningKeyStatus,
} from './server-signing-key.entity.js';
export { UsedAssertionEntity } from './used-assertion.entity.js';
export { epochMillisTransformer, TimestampColumn } from './timestamp.column.js';

/**
 * Every entity of the registry (SPEC S3), for `TypeOrmModule.forRoot({ entities })` or
 * `TypeOrmModule.forFeature()` (which makes them visible to `autoLoadEntities`).
 */
export const CLIENT_AUTH_ENTITIES = [
  ClientEntity,
  ClientCredentialEntity,
  UsedAssertionEntity,
  AuditEventEntity,
  AuthFailureEntity,
  ServerSigningKeyEntity,
  InitialAccessTokenEntity,
  RevokedTokenEntity,
  FederatedCredentialEntity,
];
