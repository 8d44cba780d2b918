import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { TOKEN_ENDPOINT_AUTH_METHODS, type TokenEndpointAuthMethod } from '../../core/types.js';
import { FieldRule, OptionalField } from '../validation/field-rule.decorator.js';
import {
  CLIENT_METADATA_LIMITS as LIMITS,
  REGISTRABLE_SIGNING_ALGORITHMS,
  SUPPORTED_GRANT_TYPES,
  contacts,
  grantTypes,
  httpsUrl,
  jwks,
  jwksUri,
  oneOf,
  redirectUris,
  responseTypes,
  scope,
  shortText,
  signingAlgorithm,
  softwareStatement,
} from '../validation/field-rules.js';

/** A JWK Set (RFC 7517 §5) as submitted: the keys stay plain JSON objects. */
export interface JwkSetDocument {
  keys: Record<string, unknown>[];
}

/**
 * OpenAPI schema of an optional JWK Set of public keys (`required` lists the set's own members;
 * `selfRequired: false` makes the property itself optional).
 */
export const JWK_SET_SCHEMA: ApiPropertyOptions = {
  type: 'object',
  selfRequired: false,
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.jwksKeys,
      items: {
        type: 'object',
        additionalProperties: true,
        description: 'A public JWK (RFC 7517 §4): kty, kid, alg, use and the public members.',
      },
    },
  },
};

/**
 * Client metadata of RFC 7591 §2 with its wire names, as accepted by the registration endpoint
 * (RFC 7591 §3.1) and, extended, by the RFC 7592 and admin APIs. Every field is optional;
 * `null` counts as absent. Unknown properties — including language-tagged variants such as
 * `client_name#fr` (RFC 7591 §2.2), which this server does not support — are dropped, never
 * stored. Rules the fields alone cannot decide (the signing algorithm fitting the method, `jwks`
 * or `jwks_uri` required for `private_key_jwt`, `jwks_uri` address admission) are the registry
 * service's.
 *
 * Caps: 20 `redirect_uris`, 10 `contacts`, 100 `jwks` keys; URIs 2048 characters, `scope` 2048,
 * `software_statement` 8192, other strings 255 ({@link CLIENT_METADATA_LIMITS}).
 */
export class ClientMetadataDto {
  /** RFC 7591 §2 `redirect_uris`; the error code is `invalid_redirect_uri` (RFC 7591 §3.2.2). */
  @ApiPropertyOptional({
    description:
      'Redirection URIs (RFC 7591 §2): absolute, no fragment; https, http only on a loopback ' +
      'host (127.0.0.1, [::1], localhost), or a private-use scheme in reverse domain name form ' +
      '(RFC 8252 §7). Stored for completeness: this server has no authorization endpoint.',
    type: [String],
    maxItems: LIMITS.redirectUris,
    uniqueItems: true,
    items: { type: 'string', format: 'uri', maxLength: LIMITS.uriLength },
    example: ['https://client.example.com/callback'],
  })
  @OptionalField()
  @FieldRule(redirectUris)
  redirect_uris?: string[];

  /** RFC 7591 §2 `token_endpoint_auth_method`; default `client_secret_basic`. */
  @ApiPropertyOptional({
    description:
      'How the client authenticates at the token endpoint (RFC 7591 §2). Secret methods get a ' +
      'generated secret, returned once; private_key_jwt needs jwks or jwks_uri.',
    enum: TOKEN_ENDPOINT_AUTH_METHODS,
    default: 'client_secret_basic',
    example: 'private_key_jwt',
  })
  @OptionalField('client_secret_basic')
  @FieldRule(oneOf(TOKEN_ENDPOINT_AUTH_METHODS), 'tokenEndpointAuthMethod')
  token_endpoint_auth_method: TokenEndpointAuthMethod = 'client_secret_basic';

  /** RFC 7591 §2 `token_endpoint_auth_signing_alg`; never `none`. */
  @ApiPropertyOptional({
    description:
      'The only JWS algorithm accepted for the client assertions (RFC 7591 §2): an asymmetric ' +
      'algorithm for private_key_jwt, HS256/384/512 for client_secret_jwt; never "none".',
    enum: REGISTRABLE_SIGNING_ALGORITHMS,
    example: 'ES256',
  })
  @OptionalField()
  @FieldRule(signingAlgorithm)
  token_endpoint_auth_signing_alg?: string;

  /** RFC 7591 §2 `grant_types`; the registry service defaults to `["client_credentials"]`. */
  @ApiPropertyOptional({
    description:
      'Grant types the client will use (RFC 7591 §2). Only client_credentials (RFC 6749 §4.4) ' +
      'and the JWT bearer grant (RFC 7523 §2.1) are supported. Default ["client_credentials"].',
    type: [String],
    enum: SUPPORTED_GRANT_TYPES,
    isArray: true,
    minItems: 1,
    maxItems: LIMITS.enumeratedValues,
    uniqueItems: true,
    example: ['client_credentials'],
  })
  @OptionalField()
  @FieldRule(grantTypes)
  grant_types?: string[];

  /** RFC 7591 §2 `response_types`: only `[]` (no authorization endpoint here). */
  @ApiPropertyOptional({
    description:
      'Response types (RFC 7591 §2): must be empty, since this server has no authorization endpoint.',
    type: [String],
    maxItems: 0,
    example: [],
  })
  @OptionalField()
  @FieldRule(responseTypes)
  response_types?: string[];

  /** RFC 7591 §2 `client_name`. */
  @ApiPropertyOptional({
    description: 'Human-readable name of the client (RFC 7591 §2).',
    minLength: 1,
    maxLength: LIMITS.textLength,
    example: 'Billing service',
  })
  @OptionalField()
  @FieldRule(shortText)
  client_name?: string;

  /** RFC 7591 §2 `client_uri`. */
  @ApiPropertyOptional({
    description: 'Home page of the client (RFC 7591 §2): an https URL.',
    format: 'uri',
    maxLength: LIMITS.uriLength,
    example: 'https://client.example.com',
  })
  @OptionalField()
  @FieldRule(httpsUrl)
  client_uri?: string;

  /** RFC 7591 §2 `logo_uri`. */
  @ApiPropertyOptional({
    description: 'Logo of the client (RFC 7591 §2): an https URL.',
    format: 'uri',
    maxLength: LIMITS.uriLength,
  })
  @OptionalField()
  @FieldRule(httpsUrl)
  logo_uri?: string;

  /** RFC 7591 §2 `tos_uri`. */
  @ApiPropertyOptional({
    description: 'Terms of service of the client (RFC 7591 §2): an https URL.',
    format: 'uri',
    maxLength: LIMITS.uriLength,
  })
  @OptionalField()
  @FieldRule(httpsUrl)
  tos_uri?: string;

  /** RFC 7591 §2 `policy_uri`. */
  @ApiPropertyOptional({
    description: 'Privacy policy of the client (RFC 7591 §2): an https URL.',
    format: 'uri',
    maxLength: LIMITS.uriLength,
  })
  @OptionalField()
  @FieldRule(httpsUrl)
  policy_uri?: string;

  /** RFC 7591 §2 `scope`: RFC 6749 §3.3 scope tokens. */
  @ApiPropertyOptional({
    description:
      'Space-separated scopes the client may request (RFC 7591 §2, syntax of RFC 6749 §3.3).',
    minLength: 1,
    maxLength: LIMITS.scopeLength,
    pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+( [\\x21\\x23-\\x5b\\x5d-\\x7e]+)*$',
    example: 'billing.read billing.write',
  })
  @OptionalField()
  @FieldRule(scope)
  scope?: string;

  /** RFC 7591 §2 `contacts`. */
  @ApiPropertyOptional({
    description: 'E-mail addresses of people responsible for the client (RFC 7591 §2).',
    type: [String],
    maxItems: LIMITS.contacts,
    items: { type: 'string', format: 'email', maxLength: LIMITS.emailLength },
    example: ['ops@client.example.com'],
  })
  @OptionalField()
  @FieldRule(contacts)
  contacts?: string[];

  /** RFC 7591 §2 `jwks`; keys are checked by the core `parseJwks`. */
  @ApiProperty({
    description:
      'Public keys of a private_key_jwt client (RFC 7591 §2, RFC 7517 §5); exclusive with ' +
      'jwks_uri. Public members only (no d, p, q, dp, dq, qi, k), kty/crv/alg consistent, RSA ' +
      'at least 2048 bits, unique kids, at most 100 keys.',
    ...JWK_SET_SCHEMA,
  })
  @OptionalField()
  @FieldRule(jwks)
  jwks?: JwkSetDocument;

  /** RFC 7591 §2 `jwks_uri`; admitted (address checks, one fetch) by the registry service. */
  @ApiPropertyOptional({
    description:
      'URL of the JWK Set of a private_key_jwt client (RFC 7591 §2); exclusive with jwks. https ' +
      '(http only for allow-listed hosts), no credentials or fragment; the host must resolve to ' +
      'public addresses, and the set is fetched once at registration (SPEC S3).',
    format: 'uri',
    maxLength: LIMITS.uriLength,
    example: 'https://client.example.com/jwks.json',
  })
  @OptionalField()
  @FieldRule(jwksUri)
  jwks_uri?: string;

  /** RFC 7591 §2 `software_id`. */
  @ApiPropertyOptional({
    description: 'Identifier of the client software (RFC 7591 §2), the same for all instances.',
    minLength: 1,
    maxLength: LIMITS.textLength,
  })
  @OptionalField()
  @FieldRule(shortText)
  software_id?: string;

  /** RFC 7591 §2 `software_version`. */
  @ApiPropertyOptional({
    description: 'Version of the client software (RFC 7591 §2).',
    minLength: 1,
    maxLength: LIMITS.textLength,
  })
  @OptionalField()
  @FieldRule(shortText)
  software_version?: string;

  /** RFC 7591 §2.3 `software_statement`; the error code is `invalid_software_statement`. */
  @ApiPropertyOptional({
    description:
      'A signed JWT asserting metadata about the client software (RFC 7591 §2.3), in JWS ' +
      'compact serialization.',
    maxLength: LIMITS.softwareStatementLength,
    pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  })
  @OptionalField()
  @FieldRule(softwareStatement)
  software_statement?: string;
}
