import { ApiPropertyOptional } from '@nestjs/swagger';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../../core/types.js';
import { FieldRule, OptionalField, QueryInteger } from '../validation/field-rule.decorator.js';
import {
  CLIENT_METADATA_LIMITS as LIMITS,
  clientId,
  integerInRange,
  isBooleanValue,
  oneOf,
  shortText,
} from '../validation/field-rules.js';
import { ClientMetadataDto } from './client-metadata.dto.js';

/** Values of `audience_policy` (SPEC S2.8). */
export const AUDIENCE_POLICIES = ['compat', 'strict'] as const;

/**
 * Body of `POST /admin/clients`: RFC 7591 §2 metadata ({@link ClientMetadataDto}) plus what only
 * an operator may set. Validation failures are `invalid_request` (use the pipe with
 * `adminErrorCodeFor`).
 */
export class AdminCreateClientDto extends ClientMetadataDto {
  /** Chosen client id; generated (128 random bits) when absent. */
  @ApiPropertyOptional({
    description:
      'Client identifier to register, 1 to 255 visible ASCII characters or spaces (RFC 6749 ' +
      'Appendix A.1). Generated when absent.',
    minLength: 1,
    maxLength: LIMITS.textLength,
    example: 'billing-service',
  })
  @OptionalField()
  @FieldRule(clientId)
  client_id?: string;

  /** Per-client audience policy (SPEC S2.8); absent: the server's. */
  @ApiPropertyOptional({
    description:
      'Audience policy for this client (SPEC S2.8): compat accepts the token endpoint URL as ' +
      'aud, strict only the issuer. Absent: the server setting.',
    enum: AUDIENCE_POLICIES,
  })
  @OptionalField()
  @FieldRule(oneOf(AUDIENCE_POLICIES), 'audiencePolicy')
  audience_policy?: (typeof AUDIENCE_POLICIES)[number];

  /** Refuse a one-member `aud` array (FAPI-style). Default false. */
  @ApiPropertyOptional({
    description: 'Require aud to be a string, refusing a one-member array. Default false.',
    type: Boolean,
    default: false,
  })
  @OptionalField()
  @FieldRule(isBooleanValue, 'requireStringAudience')
  require_string_audience?: boolean;

  /** Per-client cap on `exp - iat` of assertions, seconds (SPEC S2.6); absent: the server's. */
  @ApiPropertyOptional({
    description:
      'Longest accepted assertion lifetime for this client, in seconds (SPEC S2.6). Absent: ' +
      'the server setting.',
    type: 'integer',
    minimum: 1,
    maximum: 3600,
  })
  @OptionalField()
  @FieldRule(integerInRange(1, 3600), 'maxAssertionLifetime')
  max_assertion_lifetime?: number;

  /** Whether the client may authenticate. Default true. */
  @ApiPropertyOptional({
    description: 'Whether the client may authenticate. Default true.',
    type: Boolean,
    default: true,
  })
  @OptionalField()
  @FieldRule(isBooleanValue, 'enabled')
  enabled?: boolean;

  /**
   * A `private_key_jwt` client without keys of its own, authenticating only through federated
   * credentials (SPEC S9). Default false.
   */
  @ApiPropertyOptional({
    description:
      'private_key_jwt without jwks or jwks_uri: the client authenticates only with federated ' +
      'credentials (workload tokens). Default false.',
    type: Boolean,
    default: false,
  })
  @OptionalField()
  @FieldRule(isBooleanValue, 'federatedOnly')
  federated_only?: boolean;
}

/**
 * Body of `PUT /admin/clients/{client_id}`: the same fields as creation, with full replacement
 * semantics like RFC 7592 §2.2 — omitted fields are reset to their defaults. `client_id`, when
 * sent, must equal the path's (checked by the controller). Switching
 * `token_endpoint_auth_method` clears the old method's credentials.
 */
export class AdminUpdateClientDto extends AdminCreateClientDto {}

/** Client status filter values. */
export const CLIENT_STATUSES = ['enabled', 'disabled'] as const;

/**
 * Query of `GET /admin/clients`: offset pagination (`limit`, `offset`, matching the `total` of
 * the page) and filters. Query values arrive as strings; integers must be plain decimal digits.
 */
export class ListClientsQueryDto {
  /** Page size, 1..100. Default 20. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @QueryInteger()
  @OptionalField(20)
  @FieldRule(integerInRange(1, 100), 'limit')
  limit: number = 20;

  /** Rows to skip, 0..1000000. Default 0. */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 })
  @QueryInteger()
  @OptionalField(0)
  @FieldRule(integerInRange(0, 1_000_000), 'offset')
  offset: number = 0;

  /** Case-insensitive substring of the client id or `client_name`. */
  @ApiPropertyOptional({
    description: 'Case-insensitive substring of the client id or client_name.',
    minLength: 1,
    maxLength: LIMITS.textLength,
  })
  @OptionalField()
  @FieldRule(shortText, 'name')
  name?: string;

  /** Only clients using this method. */
  @ApiPropertyOptional({ enum: TOKEN_ENDPOINT_AUTH_METHODS })
  @OptionalField()
  @FieldRule(oneOf(TOKEN_ENDPOINT_AUTH_METHODS), 'method')
  method?: TokenEndpointAuthMethod;

  /** Only enabled or only disabled clients. */
  @ApiPropertyOptional({ enum: CLIENT_STATUSES })
  @OptionalField()
  @FieldRule(oneOf(CLIENT_STATUSES), 'status')
  status?: (typeof CLIENT_STATUSES)[number];
}
