import { Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A consumed assertion id (SPEC S5): the primary key makes `consume` an atomic
 * insert-if-absent. `key` is a digest of (method, client_id, jti).
 */
@Entity({ name: 'oauth_used_assertion' })
export class UsedAssertionEntity {
  @PrimaryColumn({
    name: 'key',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_oauth_used_assertion',
  })
  key!: string;

  /** `exp` + leeway; the row may be purged after it (SPEC S5). */
  @Index('IDX_oauth_used_assertion_expires_at')
  @TimestampColumn('expires_at')
  expiresAt!: Date;
}
