import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DateTimeField, FieldRule, OptionalField } from '../validation/field-rule.decorator.js';
import {
  boundedString,
  integerInRange,
  isDateTime,
  jwks,
  jwksUri,
  laterThan,
  oneOf,
  shortText,
  type FieldCheck,
} from '../validation/field-rules.js';

/** A flat object of at most 10 claim names → non-empty strings. */
const requiredClaims: FieldCheck = (value) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object of claim names to string values';
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 10) return 'may hold at most 10 claims';
  for (const [name, claim] of entries) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(name))
      return 'claim names are 1 to 64 of A-Z a-z 0-9 _ . : -';
    if (typeof claim !== 'string' || claim.length === 0 || claim.length > 512) {
      return 'claim values are strings of 1 to 512 characters';
    }
  }
  return undefined;
};

/**
 * Body of `POST /admin/clients/{client_id}/federated-credentials` (SPEC S9): trust tokens of an
 * external issuer (a Kubernetes cluster, a CI platform, a cloud) as the client's assertion.
 */
export class FederatedCredentialDto {
  @ApiProperty({
    description: 'The token issuer (`iss`), compared exactly — mind trailing slashes.',
    example: 'https://kubernetes.default.svc.cluster.local',
    maxLength: 512,
  })
  @FieldRule(boundedString({ max: 512 }), 'issuer')
  issuer!: string;

  @ApiProperty({
    description:
      'The token subject: exact, or a pattern where `*` stands for one whole segment between ' +
      '`:` or `/` (at most three).',
    example: 'system:serviceaccount:payments:billing',
    maxLength: 512,
  })
  @FieldRule(boundedString({ max: 512 }), 'subject')
  subject!: string;

  @ApiProperty({
    description: 'The audience the token must carry (one of its `aud` values).',
    example: 'https://auth.example.com',
    maxLength: 512,
  })
  @FieldRule(boundedString({ max: 512 }), 'audience')
  audience!: string;

  @ApiPropertyOptional({
    description: 'Where the issuer publishes its keys. Absent (with `jwks`): OpenID discovery.',
    maxLength: 2048,
  })
  @OptionalField()
  @FieldRule(jwksUri, 'jwksUri')
  jwks_uri?: string;

  @ApiPropertyOptional({
    description: 'The issuer’s public keys, given statically (exclusive with `jwks_uri`).',
    type: 'object',
    additionalProperties: true,
  })
  @OptionalField()
  @FieldRule(jwks, 'jwks')
  jwks?: { keys: Record<string, unknown>[] };

  @ApiPropertyOptional({
    description: 'Claims the token must carry with exactly these values (at most 10).',
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'kubernetes.io/namespace': 'payments' },
  })
  @OptionalField()
  @FieldRule(requiredClaims, 'requiredClaims')
  required_claims?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'Cap on the token lifetime in seconds. Default 3600.',
    type: 'integer',
    minimum: 1,
    maximum: 86_400,
  })
  @OptionalField()
  @FieldRule(integerInRange(1, 86_400), 'maxLifetime')
  max_lifetime?: number;

  @ApiPropertyOptional({
    description:
      '`single_use` (default): each token once. `reuse_within_lifetime`: a token may be ' +
      'presented again until it expires (platforms that reuse projected tokens).',
    enum: ['single_use', 'reuse_within_lifetime'],
  })
  @OptionalField()
  @FieldRule(oneOf(['single_use', 'reuse_within_lifetime']), 'replay')
  replay?: 'single_use' | 'reuse_within_lifetime';

  @ApiPropertyOptional({ description: 'A label for operators.', maxLength: 255 })
  @OptionalField()
  @FieldRule(shortText, 'name')
  name?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Not valid before.' })
  @DateTimeField()
  @OptionalField()
  @FieldRule(isDateTime, 'notBefore')
  not_before?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Expires at.' })
  @DateTimeField()
  @OptionalField()
  @FieldRule(laterThan('not_before'), 'expiresAt')
  expires_at?: Date;
}
