import type { JWK } from 'jose';
import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './timestamp.column.js';

/** Lifecycle state of a server signing key (SPEC S4 rotation with overlap). */
export type ServerSigningKeyStatus = 'current' | 'next' | 'retiring';

/**
 * A key the server signs access tokens with (SPEC S4). The private JWK is stored encrypted with
 * the `SecretCipher` (AAD `signingKeyAad(kid)`); the public JWK is served at `jwks_uri`.
 */
@Entity({ name: 'oauth_server_signing_key' })
@Check('CHK_oauth_server_signing_key_status', `"status" IN ('current', 'next', 'retiring')`)
export class ServerSigningKeyEntity {
  @PrimaryColumn({
    name: 'kid',
    type: 'varchar',
    length: 255,
    primaryKeyConstraintName: 'PK_oauth_server_signing_key',
  })
  kid!: string;

  @Column({ name: 'alg', type: 'varchar', length: 32 })
  alg!: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: ServerSigningKeyStatus;

  /** `SecretCipher` output (`v1.<iv>.<tag>.<ciphertext>`) of the private JWK as JSON. */
  @Column({ name: 'private_jwk_ciphertext', type: 'text' })
  privateJwkCiphertext!: string;

  @Column({ name: 'public_jwk', type: 'simple-json' })
  publicJwk!: JWK;

  @TimestampColumn('created_at')
  createdAt!: Date;

  /** After this instant the key is no longer published. */
  @TimestampColumn('not_after', { nullable: true })
  notAfter!: Date | null;
}
