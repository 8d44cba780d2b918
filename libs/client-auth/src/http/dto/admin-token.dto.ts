import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FieldRule, OptionalField } from '../validation/field-rule.decorator.js';
import { integerInRange, shortText } from '../validation/field-rules.js';

/**
 * Body of `POST /admin/initial-access-tokens` (may be empty): an RFC 7591 §3 initial access
 * token with an optional lifetime, use count and note. Absent limits mean none.
 */
export class IssueInitialAccessTokenDto {
  /** Lifetime in seconds, 60..31536000 (one year); absent: no expiry. */
  @ApiPropertyOptional({
    description: 'Lifetime in seconds, from 60 to 31536000 (one year). Absent: no expiry.',
    type: 'integer',
    minimum: 60,
    maximum: 31_536_000,
    example: 86_400,
  })
  @OptionalField()
  @FieldRule(integerInRange(60, 31_536_000), 'expiresIn')
  expires_in?: number;

  /** Registrations it may authorize, 1..1000000; absent: unlimited. */
  @ApiPropertyOptional({
    description: 'How many registrations it may authorize, 1 to 1000000. Absent: unlimited.',
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    example: 1,
  })
  @OptionalField()
  @FieldRule(integerInRange(1, 1_000_000), 'maxUses')
  max_uses?: number;

  /** The operator's note, at most 255 characters. */
  @ApiPropertyOptional({
    description: 'What the token is for (shown in listings), at most 255 characters.',
    minLength: 1,
    maxLength: 255,
    example: 'billing team, staging',
  })
  @OptionalField()
  @FieldRule(shortText, 'description')
  description?: string;
}

/** Status values of an initial access token. */
export const INITIAL_ACCESS_TOKEN_STATUSES = ['active', 'expired', 'used_up', 'revoked'] as const;

/**
 * An initial access token as the admin API shows it; `initial_access_token` only in the response
 * that issued it. Times are RFC 3339 strings. OpenAPI only.
 */
export class InitialAccessTokenResponseDto {
  @ApiProperty({ description: 'Identifier of the token record (for revocation).' })
  id!: string;

  @ApiPropertyOptional({
    description:
      'The bearer token for the registration endpoint (256 random bits). Returned once, when ' +
      'issued; only its digest is stored.',
  })
  initial_access_token?: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ description: 'Who issued it.' })
  created_by!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Absent: no expiry.' })
  expires_at?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Absent: unlimited.' })
  max_uses?: number;

  @ApiProperty({ type: 'integer', description: 'Registrations authorized so far.' })
  uses!: number;

  @ApiPropertyOptional({ type: String, format: 'date-time' })
  revoked_at?: string;

  @ApiProperty({ enum: INITIAL_ACCESS_TOKEN_STATUSES })
  status!: (typeof INITIAL_ACCESS_TOKEN_STATUSES)[number];
}
