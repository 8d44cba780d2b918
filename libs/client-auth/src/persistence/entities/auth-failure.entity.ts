import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ClientAuthReason } from '../../core/errors.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A recent client authentication failure (SPEC S2.9, S3), kept bounded per client. Never holds
 * the assertion or a secret.
 */
@Entity({ name: 'oauth_auth_failure' })
export class AuthFailureEntity {
  @PrimaryColumn({
    name: 'id',
    type: 'varchar',
    length: 36,
    primaryKeyConstraintName: 'PK_oauth_auth_failure',
  })
  id!: string;

  @Index('IDX_oauth_auth_failure_at')
  @TimestampColumn('at')
  at!: Date;

  /** The client the request named (unverified; may not exist). */
  @Index('IDX_oauth_auth_failure_client_id')
  @Column({ name: 'client_id', type: 'varchar', length: 255, nullable: true })
  clientId!: string | null;

  /** Stable reason code (SPEC S2.9). */
  @Column({ name: 'reason', type: 'varchar', length: 64 })
  reason!: ClientAuthReason;

  @Column({ name: 'method', type: 'varchar', length: 32, nullable: true })
  method!: string | null;

  /** Joins the record to the response and the logs (SPEC S2.9). */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  /** Operator-facing description of the failed rule. */
  @Column({ name: 'detail', type: 'text' })
  detail!: string;
}
