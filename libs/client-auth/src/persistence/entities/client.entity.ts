import { Check, Column, Entity, OneToMany, PrimaryColumn, type Relation } from 'typeorm';
import type { AudienceForm, AudiencePolicy, TokenEndpointAuthMethod } from '../../core/types.js';
import { ClientCredentialEntity } from './client-credential.entity.js';
import { TimestampColumn } from './timestamp.column.js';

/**
 * A registered client (SPEC S3; RFC 7591 §2 metadata). Credentials live in
 * {@link ClientCredentialEntity} rows; unlisted metadata (client_name, contacts, software_id,
 * software_version, …) in `metadata`.
 */
@Entity({ name: 'oauth_client' })
@Check(
  'CHK_oauth_client_method',
  `"token_endpoint_auth_method" IN ('client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none')`,
)
@Check('CHK_oauth_client_audience_policy', `"audience_policy" IN ('compat', 'strict')`)
export class ClientEntity {
  /** RFC 7591 §3.2.1 `client_id`. */
  @PrimaryColumn({
    name: 'client_id',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'PK_oauth_client',
  })
  clientId!: string;

  /** A disabled client cannot authenticate (SPEC S2.3). */
  @Column({ name: 'enabled', type: 'boolean' })
  enabled!: boolean;

  /** RFC 7591 §2 `token_endpoint_auth_method`. */
  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32 })
  tokenEndpointAuthMethod!: TokenEndpointAuthMethod;

  /** RFC 7591 §2 `token_endpoint_auth_signing_alg`: when set, the only algorithm accepted. */
  @Column({ name: 'token_endpoint_auth_signing_alg', type: 'varchar', length: 32, nullable: true })
  tokenEndpointAuthSigningAlg!: string | null;

  /** RFC 7591 §2 `jwks_uri` (mutually exclusive with stored keys). */
  @Column({ name: 'jwks_uri', type: 'varchar', length: 2048, nullable: true })
  jwksUri!: string | null;

  /** Per-client audience policy override (SPEC S2.8). */
  @Column({ name: 'audience_policy', type: 'varchar', length: 16, nullable: true })
  audiencePolicy!: AudiencePolicy | null;

  /** `aud` must be a string, not a one-member array (FAPI; SPEC S2.8). */
  @Column({ name: 'require_string_audience', type: 'boolean' })
  requireStringAudience!: boolean;

  /** Per-client assertion lifetime cap in seconds (SPEC S2.6). */
  @Column({ name: 'max_assertion_lifetime', type: 'integer', nullable: true })
  maxAssertionLifetime!: number | null;

  /** RFC 7591 §2 `scope`. */
  @Column({ name: 'scope', type: 'text', nullable: true })
  scope!: string | null;

  /** RFC 7591 §2 `grant_types`. */
  @Column({ name: 'grant_types', type: 'simple-json' })
  grantTypes!: string[];

  /** Other RFC 7591 metadata. Never holds a secret. */
  @Column({ name: 'metadata', type: 'simple-json' })
  metadata!: Record<string, unknown>;

  /** RFC 7592 registration access token, as a digest (SPEC S3). */
  @Column({
    name: 'registration_access_token_digest',
    type: 'varchar',
    length: 128,
    nullable: true,
  })
  registrationAccessTokenDigest!: string | null;

  /** Audience form of the last accepted assertion (SPEC S2.8 readiness). */
  @Column({ name: 'last_audience_form', type: 'varchar', length: 32, nullable: true })
  lastAudienceForm!: AudienceForm | null;

  /** `typ` header of the last accepted assertion (SPEC S2.8 readiness). */
  @Column({ name: 'last_assertion_typ', type: 'varchar', length: 255, nullable: true })
  lastAssertionTyp!: string | null;

  /** When the client last authenticated (coalesced, see `TypeOrmClientStore.recordSuccess`). */
  @TimestampColumn('last_authenticated_at', { nullable: true })
  lastAuthenticatedAt!: Date | null;

  @TimestampColumn('created_at')
  createdAt!: Date;

  @TimestampColumn('updated_at')
  updatedAt!: Date;

  /** Incremented by every registry change; not by authentication bookkeeping. */
  @Column({ name: 'version', type: 'integer' })
  version!: number;

  /** The client's keys and secrets. */
  @OneToMany(() => ClientCredentialEntity, (credential) => credential.client)
  credentials?: Relation<ClientCredentialEntity>[];
}
