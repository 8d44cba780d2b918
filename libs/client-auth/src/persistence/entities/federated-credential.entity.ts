import type { JWK } from 'jose';
import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  type Relation,
} from 'typeorm';
import type { CredentialStatus, FederatedReplayPolicy } from '../../core/types.js';
import { ClientEntity } from './client.entity.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A federated credential (SPEC S9): tokens of `issuer` whose subject, audience and required
 * claims match authenticate the client. Looked up by issuer at authentication time.
 */
@Entity({ name: 'oauth_federated_credential' })
@Check('CHK_oauth_federated_credential_status', `"status" IN ('active', 'revoked')`)
@Check(
  'CHK_oauth_federated_credential_replay',
  `"replay_policy" IN ('single_use', 'reuse_within_lifetime')`,
)
export class FederatedCredentialEntity {
  @PrimaryColumn({
    name: 'id',
    type: 'varchar',
    length: 36,
    primaryKeyConstraintName: 'PK_oauth_federated_credential',
  })
  id!: string;

  @Index('IDX_oauth_federated_credential_client_id')
  @Column({ name: 'client_id', type: 'varchar', length: 255 })
  clientId!: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'client_id',
    referencedColumnName: 'clientId',
    foreignKeyConstraintName: 'FK_oauth_federated_credential_client',
  })
  client?: Relation<ClientEntity>;

  @Column({ name: 'name', type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  /** The token `iss`, compared exactly. */
  @Index('IDX_oauth_federated_credential_issuer')
  @Column({ name: 'issuer', type: 'varchar', length: 512 })
  issuer!: string;

  @Column({ name: 'jwks_uri', type: 'varchar', length: 2048, nullable: true })
  jwksUri!: string | null;

  @Column({ name: 'jwks', type: 'simple-json', nullable: true })
  jwks!: { keys: JWK[] } | null;

  /** Exact subject, or a restricted `*` pattern. */
  @Column({ name: 'subject', type: 'varchar', length: 512 })
  subject!: string;

  @Column({ name: 'audience', type: 'varchar', length: 512 })
  audience!: string;

  @Column({ name: 'required_claims', type: 'simple-json' })
  requiredClaims!: Record<string, string>;

  @Column({ name: 'max_lifetime', type: 'integer', nullable: true })
  maxLifetime!: number | null;

  @Column({ name: 'replay_policy', type: 'varchar', length: 32 })
  replayPolicy!: FederatedReplayPolicy;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: CredentialStatus;

  @TimestampColumn('not_before')
  notBefore!: Date;

  @TimestampColumn('expires_at', { nullable: true })
  expiresAt!: Date | null;

  @TimestampColumn('last_used_at', { nullable: true })
  lastUsedAt!: Date | null;

  @TimestampColumn('created_at')
  createdAt!: Date;
}
