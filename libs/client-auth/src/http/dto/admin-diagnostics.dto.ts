import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../../core/types.js';
import {
  DateTimeField,
  FieldRule,
  OptionalField,
  QueryInteger,
} from '../validation/field-rule.decorator.js';
import { clientId, integerInRange, isDateTime } from '../validation/field-rules.js';
import { AUDIENCE_POLICIES } from './admin-client.dto.js';

/**
 * Query of `GET /admin/audit-events` and `GET /admin/failures` (newest first): `limit`, an
 * optional client, and `before` to page backwards — pass the `at` of the last entry seen
 * (`next_before` of the previous page).
 */
export class ListQueryDto {
  /** Entries per page, 1..500. Default 50. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 50 })
  @QueryInteger()
  @OptionalField(50)
  @FieldRule(integerInRange(1, 500), 'limit')
  limit: number = 50;

  /** Only entries of this client. */
  @ApiPropertyOptional({ minLength: 1, maxLength: 255 })
  @OptionalField()
  @FieldRule(clientId, 'clientId')
  client_id?: string;

  /** Only entries strictly older than this RFC 3339 date-time. */
  @ApiPropertyOptional({
    description: 'Only entries strictly older than this instant (RFC 3339 date-time).',
    type: String,
    format: 'date-time',
  })
  @DateTimeField()
  @OptionalField()
  @FieldRule(isDateTime, 'before')
  before?: Date;
}

/** One registry change (SPEC S3 audit trail). `details` never holds a secret. OpenAPI only. */
export class AuditEventResponseDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  at!: string;

  @ApiProperty({ description: 'Who made the change (an admin, `registration`, `system`).' })
  actor!: string;

  @ApiProperty({ description: 'What happened.', example: 'credential.rotated' })
  action!: string;

  @ApiPropertyOptional()
  client_id?: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Facts of the change: ids, kids, algorithms; never a secret or key.',
  })
  details!: Record<string, unknown>;
}

/** A recent authentication failure of a client (SPEC S2.9). OpenAPI only. */
export class AuthFailureResponseDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  at!: string;

  @ApiPropertyOptional({ description: 'The client the request named (not verified).' })
  client_id?: string;

  @ApiProperty({ description: 'Stable reason code (SPEC S2.9).', example: 'aud_not_accepted' })
  reason!: string;

  @ApiPropertyOptional({ enum: TOKEN_ENDPOINT_AUTH_METHODS })
  method?: string;

  @ApiPropertyOptional({ description: 'Joins the failure to the response and the logs.' })
  request_id?: string;

  @ApiProperty({ description: 'Which rule failed, for the client owner.' })
  detail!: string;
}

/** One page of audit events. OpenAPI only. */
export class AuditEventListDto {
  @ApiProperty({ type: [AuditEventResponseDto] })
  items!: AuditEventResponseDto[];

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the page is full: pass as `before` for the next page.',
  })
  next_before?: string;
}

/** One page of authentication failures. OpenAPI only. */
export class AuthFailureListDto {
  @ApiProperty({ type: [AuthFailureResponseDto] })
  items!: AuthFailureResponseDto[];

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the page is full: pass as `before` for the next page.',
  })
  next_before?: string;
}

/** Audience forms of SPEC S2.8, as recorded for accepted assertions. */
export const AUDIENCE_FORMS = [
  'issuer',
  'issuer_array',
  'token_endpoint',
  'endpoint_url',
  'issuer_among_others',
] as const;

/** The audience-readiness view of one client (SPEC S2.8). OpenAPI only. */
export class ReadinessResponseDto {
  @ApiProperty()
  client_id!: string;

  @ApiProperty({ enum: TOKEN_ENDPOINT_AUTH_METHODS })
  token_endpoint_auth_method!: TokenEndpointAuthMethod;

  @ApiProperty({
    enum: AUDIENCE_POLICIES,
    description: "The policy in force for the client: its own, else the server's.",
  })
  audience_policy!: (typeof AUDIENCE_POLICIES)[number];

  @ApiPropertyOptional({
    enum: AUDIENCE_FORMS,
    description: 'The aud form of its last accepted assertion.',
  })
  last_audience_form?: (typeof AUDIENCE_FORMS)[number];

  @ApiPropertyOptional({ description: 'The typ header of its last accepted assertion, as sent.' })
  last_assertion_typ?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time' })
  last_authenticated_at?: string;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      'Whether its last assertion would pass under strict; null when no assertion was seen ' +
      'or the client does not use assertions.',
  })
  passes_strict!: boolean | null;

  @ApiProperty({ description: 'Why, in words.', example: 'aud is the token endpoint URL' })
  reason!: string;
}
