import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { DateTimeField, FieldRule, OptionalField } from '../validation/field-rule.decorator.js';
import { integerInRange, isDateTime, laterThan, publicJwk } from '../validation/field-rules.js';

/** Longest rotation overlap: 30 days, in seconds. */
export const MAX_OVERLAP_SECONDS = 2_592_000;

/** OpenAPI schema of one public JWK. */
const JWK_SCHEMA: ApiPropertyOptions = {
  type: 'object',
  additionalProperties: true,
  description:
    'A public JWK (RFC 7517 §4): RSA ≥ 2048 bits, EC P-256/384/521 or OKP Ed25519; no private ' +
    'members (d, p, q, dp, dq, qi, k); alg and use, when present, fit the key.',
  example: { kty: 'EC', crv: 'P-256', kid: 'key-2', x: '…', y: '…', alg: 'ES256', use: 'sig' },
};

/**
 * Body of `POST /admin/clients/{client_id}/credentials`: adds a public key to a `private_key_jwt`
 * client with inline keys (SPEC S3). Times are RFC 3339 date-times with a time zone (the admin
 * API's format; registration responses use epoch seconds); they arrive in the DTO as `Date`.
 */
export class AddCredentialDto {
  /** The public key; checked by the core `parsePublicJwk`. */
  @ApiProperty(JWK_SCHEMA)
  @FieldRule(publicJwk, 'jwk')
  jwk!: Record<string, unknown>;

  /** Not valid before this instant. Default: now. */
  @ApiPropertyOptional({
    description: 'Not valid before this instant (RFC 3339 date-time). Default: now.',
    type: String,
    format: 'date-time',
    example: '2030-01-01T00:00:00Z',
  })
  @DateTimeField()
  @OptionalField()
  @FieldRule(isDateTime, 'notBefore')
  not_before?: Date;

  /** Not valid from this instant on; later than `not_before`. Default: no expiry. */
  @ApiPropertyOptional({
    description:
      'Expires at this instant (RFC 3339 date-time), later than not_before. Default: never.',
    type: String,
    format: 'date-time',
    example: '2031-01-01T00:00:00Z',
  })
  @DateTimeField()
  @OptionalField()
  @FieldRule(laterThan('not_before'), 'expiresAt')
  expires_at?: Date;
}

/**
 * Body of `POST /admin/clients/{client_id}/credentials/rotate`: adds `jwk` and lets the client's
 * other active keys expire after `overlap_seconds` (SPEC S3 rotation with overlap).
 */
export class RotateKeyDto {
  /** The new public key. */
  @ApiProperty(JWK_SCHEMA)
  @FieldRule(publicJwk, 'jwk')
  jwk!: Record<string, unknown>;

  /** How long the previous keys stay valid, 0..2592000 s. Default 86400 (one day). */
  @ApiPropertyOptional({
    description:
      'Seconds the previous keys stay valid (0 expires them at once), at most 30 days. Default 86400.',
    type: 'integer',
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    default: 86_400,
  })
  @OptionalField(86_400)
  @FieldRule(integerInRange(0, MAX_OVERLAP_SECONDS), 'overlapSeconds')
  overlap_seconds: number = 86_400;
}

/**
 * Body of `POST /admin/clients/{client_id}/credentials/{id}/expire` (may be empty): the
 * credential is refused from `at` on.
 */
export class ExpireCredentialDto {
  /** When the credential expires; absent: now (the server's clock). */
  @ApiPropertyOptional({
    description: 'When the credential stops being accepted (RFC 3339 date-time). Default: now.',
    type: String,
    format: 'date-time',
  })
  @DateTimeField()
  @OptionalField()
  @FieldRule(isDateTime, 'at')
  at?: Date;
}

/**
 * Body of `POST /admin/clients/{client_id}/secret/rotate` (may be empty): issues a new secret,
 * returned once; the previous secrets stay valid for `overlap_seconds`.
 */
export class RotateSecretDto {
  /** How long the previous secrets stay valid, 0..2592000 s. Default 0 (revoked at once). */
  @ApiPropertyOptional({
    description:
      'Seconds the previous secret stays valid (0 revokes it at once), at most 30 days. Default 0.',
    type: 'integer',
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    default: 0,
  })
  @OptionalField(0)
  @FieldRule(integerInRange(0, MAX_OVERLAP_SECONDS), 'overlapSeconds')
  overlap_seconds: number = 0;
}
