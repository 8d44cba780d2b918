import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type CredentialStatus,
  type TokenEndpointAuthMethod,
} from '../../core/types.js';
import { AUDIENCE_POLICIES } from './admin-client.dto.js';

/** How the admin API shows a credential's state at a given instant. */
export const CREDENTIAL_DISPLAY_STATUSES = [
  'active',
  'expiring',
  'expired',
  'revoked',
  'not_yet_valid',
] as const;

/** A credential's displayed state (see {@link credentialDisplayStatus}). */
export type CredentialDisplayStatus = (typeof CREDENTIAL_DISPLAY_STATUSES)[number];

/**
 * The state the admin API shows for a credential at `now`: `revoked`; `not_yet_valid` before
 * `notBefore`; `expired` from `expiresAt` on; `expiring` while valid with an expiry set (for
 * example the previous key during a rotation overlap); otherwise `active`. Authentication accepts
 * `active` and `expiring` credentials only.
 *
 * @example
 * ```ts
 * credentialDisplayStatus({ status: 'active', expiresAt: new Date(Date.now() + 60_000) }, new Date());
 * // 'expiring'
 * ```
 */
export function credentialDisplayStatus(
  credential: {
    readonly status: CredentialStatus;
    readonly notBefore?: Date;
    readonly expiresAt?: Date;
  },
  now: Date,
): CredentialDisplayStatus {
  if (credential.status === 'revoked') return 'revoked';
  if (credential.notBefore !== undefined && credential.notBefore.getTime() > now.getTime()) {
    return 'not_yet_valid';
  }
  if (credential.expiresAt !== undefined) {
    return credential.expiresAt.getTime() <= now.getTime() ? 'expired' : 'expiring';
  }
  return 'active';
}

/**
 * One credential of a client as the admin API shows it (SPEC S3): never the secret, its digest,
 * its ciphertext or key material beyond `kid`/`alg`. Times are RFC 3339 strings. OpenAPI only.
 */
export class CredentialResponseDto {
  @ApiProperty({ description: 'Identifier of the credential record.' })
  id!: string;

  @ApiProperty({
    enum: ['public_key', 'secret_digest', 'secret'],
    description:
      'public_key: a JWK; secret_digest: a client_secret_basic/post secret (stored as a digest); ' +
      'secret: a client_secret_jwt secret (stored encrypted).',
  })
  kind!: 'public_key' | 'secret_digest' | 'secret';

  @ApiPropertyOptional()
  kid?: string;

  @ApiPropertyOptional()
  alg?: string;

  @ApiProperty({ enum: CREDENTIAL_DISPLAY_STATUSES })
  status!: CredentialDisplayStatus;

  @ApiProperty({ type: String, format: 'date-time' })
  not_before!: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Absent: never.' })
  expires_at?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time' })
  last_used_at?: string;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;
}

/**
 * A client as the admin API shows it (SPEC S3): registration, bookkeeping and credentials; no
 * secret, token or private key. Times are RFC 3339 strings. OpenAPI only.
 */
export class ClientResponseDto {
  @ApiProperty()
  client_id!: string;

  @ApiPropertyOptional()
  client_name?: string;

  @ApiProperty({ enum: TOKEN_ENDPOINT_AUTH_METHODS })
  token_endpoint_auth_method!: TokenEndpointAuthMethod;

  @ApiPropertyOptional()
  token_endpoint_auth_signing_alg?: string;

  @ApiPropertyOptional({ format: 'uri' })
  jwks_uri?: string;

  @ApiProperty({ type: [String], example: ['client_credentials'] })
  grant_types!: string[];

  @ApiPropertyOptional()
  scope?: string;

  @ApiPropertyOptional({ type: [String] })
  contacts?: string[];

  @ApiPropertyOptional({ type: [String] })
  redirect_uris?: string[];

  @ApiPropertyOptional({ format: 'uri' })
  client_uri?: string;

  @ApiPropertyOptional({ format: 'uri' })
  logo_uri?: string;

  @ApiPropertyOptional({ format: 'uri' })
  tos_uri?: string;

  @ApiPropertyOptional({ format: 'uri' })
  policy_uri?: string;

  @ApiPropertyOptional()
  software_id?: string;

  @ApiPropertyOptional()
  software_version?: string;

  @ApiProperty()
  enabled!: boolean;

  @ApiPropertyOptional({
    enum: AUDIENCE_POLICIES,
    description: "The client's own audience policy; absent: the server's.",
  })
  audience_policy?: (typeof AUDIENCE_POLICIES)[number];

  @ApiProperty()
  require_string_audience!: boolean;

  @ApiPropertyOptional({ type: 'integer', description: "Seconds; absent: the server's cap." })
  max_assertion_lifetime?: number;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updated_at!: string;

  @ApiProperty({ type: 'integer', description: 'Incremented by every change.' })
  version!: number;

  @ApiPropertyOptional({ type: String, format: 'date-time' })
  last_authenticated_at?: string;

  @ApiProperty({ type: [CredentialResponseDto] })
  credentials!: CredentialResponseDto[];
}

/**
 * The shape of an offset-paginated listing: `items` of the page, `total` matching the filters,
 * and the `limit`/`offset` used. Subclasses declare `items` with their element type.
 */
export abstract class PageDto<T> {
  abstract items: T[];

  @ApiProperty({ type: 'integer', description: 'Entries matching the filters.' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;
}

/** One page of `GET /admin/clients`. OpenAPI only. */
export class ClientPageDto extends PageDto<ClientResponseDto> {
  @ApiProperty({ type: [ClientResponseDto] })
  items!: ClientResponseDto[];
}
