import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/**
 * An initial access token for dynamic client registration (RFC 7591 §3, SPEC S3), issued through
 * the admin API. Only a digest of the token is stored; `uses` is incremented in the same
 * transaction that registers a client, so a use count cannot be exceeded by concurrent requests.
 */
@Entity({ name: 'oauth_initial_access_token' })
export class InitialAccessTokenEntity {
  @PrimaryColumn({
    name: 'id',
    type: 'varchar',
    length: 36,
    primaryKeyConstraintName: 'PK_oauth_initial_access_token',
  })
  id!: string;

  /** `sha256:<base64url>` digest of the token. */
  @Index('UQ_oauth_initial_access_token_digest', { unique: true })
  @Column({ name: 'token_digest', type: 'varchar', length: 128 })
  tokenDigest!: string;

  /** Operator's note (what the token is for). */
  @Column({ name: 'description', type: 'varchar', length: 255, nullable: true })
  description!: string | null;

  /** Who issued it. */
  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  createdBy!: string;

  @TimestampColumn('created_at')
  createdAt!: Date;

  /** After this instant the token is refused; null: no expiry. */
  @TimestampColumn('expires_at', { nullable: true })
  expiresAt!: Date | null;

  /** How many registrations it may authorize; null: unlimited. */
  @Column({ name: 'max_uses', type: 'integer', nullable: true })
  maxUses!: number | null;

  /** Registrations it has authorized. */
  @Column({ name: 'uses', type: 'integer' })
  uses!: number;

  /** When an operator revoked it; null while valid. */
  @TimestampColumn('revoked_at', { nullable: true })
  revokedAt!: Date | null;
}
