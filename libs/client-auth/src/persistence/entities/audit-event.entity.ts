import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/** An operator-visible record of a registry change (SPEC S3). `details` never holds a secret. */
@Entity({ name: 'oauth_audit_event' })
export class AuditEventEntity {
  @PrimaryColumn({
    name: 'id',
    type: 'varchar',
    length: 36,
    primaryKeyConstraintName: 'PK_oauth_audit_event',
  })
  id!: string;

  @Index('IDX_oauth_audit_event_at')
  @TimestampColumn('at')
  at!: Date;

  /** Who made the change (`system`, an admin name, `registration`, …). */
  @Column({ name: 'actor', type: 'varchar', length: 255 })
  actor!: string;

  /** What happened, e.g. `client.created`, `credential.revoked`. */
  @Column({ name: 'action', type: 'varchar', length: 64 })
  action!: string;

  /** The client concerned; not a foreign key, so events outlive a deleted client. */
  @Index('IDX_oauth_audit_event_client_id')
  @Column({ name: 'client_id', type: 'varchar', length: 255, nullable: true })
  clientId!: string | null;

  @Column({ name: 'details', type: 'simple-json' })
  details!: Record<string, unknown>;
}
