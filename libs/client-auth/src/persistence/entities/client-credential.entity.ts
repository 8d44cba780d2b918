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
import type { ClientCredential, CredentialStatus } from '../../core/types.js';
import { ClientEntity } from './client.entity.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * One credential of a client (SPEC S3): a public key, the digest of a `client_secret_basic/post`
 * secret, or an encrypted `client_secret_jwt` secret. `kid` is unique per client when set.
 */
@Entity({ name: 'oauth_client_credential' })
@Index('UQ_oauth_client_credential_client_kid', ['clientId', 'kid'], { unique: true })
@Check('CHK_oauth_client_credential_kind', `"kind" IN ('public_key', 'secret_digest', 'secret')`)
@Check('CHK_oauth_client_credential_status', `"status" IN ('active', 'revoked')`)
export class ClientCredentialEntity {
  /** UUID generated in code (`crypto.randomUUID()`), portable across dialects. */
  @PrimaryColumn({
    name: 'id',
    type: 'varchar',
    length: 36,
    primaryKeyConstraintName: 'PK_oauth_client_credential',
  })
  id!: string;

  @Index('IDX_oauth_client_credential_client_id')
  @Column({ name: 'client_id', type: 'varchar', length: 255 })
  clientId!: string;

  @ManyToOne(() => ClientEntity, (client) => client.credentials, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'client_id',
    referencedColumnName: 'clientId',
    foreignKeyConstraintName: 'FK_oauth_client_credential_client',
  })
  // `Relation<>` keeps decorator metadata from touching the class during the ESM import cycle.
  client?: Relation<ClientEntity>;

  @Column({ name: 'kind', type: 'varchar', length: 16 })
  kind!: ClientCredential['kind'];

  @Column({ name: 'kid', type: 'varchar', length: 255, nullable: true })
  kid!: string | null;

  @Column({ name: 'alg', type: 'varchar', length: 32, nullable: true })
  alg!: string | null;

  /** The public JWK (`public_key` only; private members are refused on write). */
  @Column({ name: 'jwk', type: 'simple-json', nullable: true })
  jwk!: JWK | null;

  /** `sha256:<base64url>` digest of a `client_secret_basic/post` secret (SPEC S3). */
  @Column({ name: 'secret_digest', type: 'varchar', length: 128, nullable: true })
  secretDigest!: string | null;

  /** `client_secret_jwt` secret encrypted with the `SecretCipher` (SPEC S3). */
  @Column({ name: 'secret_ciphertext', type: 'text', nullable: true })
  secretCiphertext!: string | null;

  @TimestampColumn('not_before')
  notBefore!: Date;

  @TimestampColumn('expires_at', { nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: CredentialStatus;

  @TimestampColumn('last_used_at', { nullable: true })
  lastUsedAt!: Date | null;

  @TimestampColumn('created_at')
  createdAt!: Date;
}
