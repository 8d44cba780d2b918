import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A revoked access token (RFC 7009, SPEC S4), by `jti`. Kept until the token would have expired,
 * then purged.
 */
@Entity({ name: 'oauth_revoked_token' })
export class RevokedTokenEntity {
  @PrimaryColumn({
    name: 'jti',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'PK_oauth_revoked_token',
  })
  jti!: string;

  /** The client the token was issued to. */
  @Column({ name: 'client_id', type: 'varchar', length: 255 })
  clientId!: string;

  @TimestampColumn('revoked_at')
  revokedAt!: Date;

  /** The token's `exp`; the row may be purged after it. */
  @Index('IDX_oauth_revoked_token_expires_at')
  @TimestampColumn('expires_at')
  expiresAt!: Date;
}
