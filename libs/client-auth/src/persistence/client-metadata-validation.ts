import type { JWK } from 'jose';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  jwkFitsAlgorithm,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../core/assertion/algorithms.js';
import { OAuthError } from '../core/errors.js';
import { InvalidJwksError } from '../core/jwks/jwks-errors.js';
import { parseJwks, parsePublicJwk } from '../core/jwks/jwks-validation.js';
import { subjectPatternProblem } from '../core/federation/subject-pattern.js';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type AudiencePolicy,
  type FederatedReplayPolicy,
  type TokenEndpointAuthMethod,
} from '../core/types.js';

/**
 * Domain validation of registry input (SPEC S3, RFC 7591 §2). The HTTP layer validates shapes
 * with class-validator DTOs first; these rules hold for every caller, HTTP or not.
 */

/** Methods whose clients hold a secret. */
export const SECRET_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
];

/** An RFC 7591 §3.2.2 `invalid_client_metadata` error naming the field. */
export function invalid(field: string, problem: string): OAuthError {
  return new OAuthError('invalid_client_metadata', `${field}: ${problem}`);
}

/** Input of {@link ClientRegistryService.createClient} (RFC 7591 §2 metadata, camelCased). */
export interface CreateClientInput {
  /** Generated (128-bit random, base64url) when absent. */
  readonly clientId?: string;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  readonly tokenEndpointAuthSigningAlg?: string;
  /** Public keys (`private_key_jwt`); exclusive with `jwksUri`. */
  readonly jwks?: { readonly keys: readonly JWK[] };
  /** Remote key set (`private_key_jwt`); exclusive with `jwks`. */
  readonly jwksUri?: string;
  /** Secret methods always get a generated secret; `'generate'` only says so explicitly. */
  readonly secret?: 'generate';
  readonly scope?: string;
  /** Default `['client_credentials']`. */
  readonly grantTypes?: readonly string[];
  readonly audiencePolicy?: AudiencePolicy;
  readonly requireStringAudience?: boolean;
  readonly maxAssertionLifetimeSeconds?: number;
  /** Other metadata (client_name, contacts, software_id, software_version, …). */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Default true. */
  readonly enabled?: boolean;
  /**
   * A `private_key_jwt` client that authenticates only with federated credentials (SPEC S9):
   * neither `jwks` nor `jwksUri` is required. Default false.
   */
  readonly federatedOnly?: boolean;
}

/** Validity window of a credential. */
export interface CredentialValidity {
  readonly notBefore?: Date;
  readonly expiresAt?: Date;
}

/** Input after validation. */
export interface ValidCreateInput {
  clientId?: string;
  method: TokenEndpointAuthMethod;
  signingAlg?: string;
  keys?: JWK[];
  jwksUri?: string;
  scope?: string;
  grantTypes: string[];
  audiencePolicy?: AudiencePolicy;
  requireStringAudience: boolean;
  maxAssertionLifetimeSeconds?: number;
  metadata: Record<string, unknown>;
  enabled: boolean;
}

/** RFC 6749 Appendix A.1: client_id = *VSCHAR. */
const CLIENT_ID = /^[\x20-\x7e]{1,255}$/;
/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const MAX_METADATA_BYTES = 16 * 1024;

export function validateCreateInput(input: CreateClientInput, maxKeys: number): ValidCreateInput {
  if (typeof input !== 'object' || input === null) throw invalid('client', 'must be an object');
  const method = input.tokenEndpointAuthMethod;
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method)) {
    throw invalid('token_endpoint_auth_method', 'unsupported value');
  }
  if (
    input.clientId !== undefined &&
    (typeof input.clientId !== 'string' || !CLIENT_ID.test(input.clientId))
  ) {
    throw invalid('client_id', 'must be 1 to 255 visible ASCII characters');
  }

  let signingAlg: string | undefined;
  if (input.tokenEndpointAuthSigningAlg !== undefined) {
    // SPEC S2.4: only asymmetric algorithms with keys, only HMAC with secrets, never `none`.
    const allowed =
      method === 'private_key_jwt'
        ? PRIVATE_KEY_JWT_ALGORITHMS
        : method === 'client_secret_jwt'
          ? CLIENT_SECRET_JWT_ALGORITHMS
          : undefined;
    if (!allowed) {
      throw invalid(
        'token_endpoint_auth_signing_alg',
        'only applies to private_key_jwt and client_secret_jwt',
      );
    }
    if (!allowed.includes(input.tokenEndpointAuthSigningAlg)) {
      throw invalid('token_endpoint_auth_signing_alg', `must be one of ${allowed.join(', ')}`);
    }
    signingAlg = input.tokenEndpointAuthSigningAlg;
  }

  let keys: JWK[] | undefined;
  let jwksUri: string | undefined;
  if (method === 'private_key_jwt') {
    // RFC 7591 §2: jwks and jwks_uri MUST NOT both be present; one is needed to verify keys.
    if (input.jwks !== undefined && input.jwksUri !== undefined) {
      throw invalid('jwks', 'private_key_jwt needs exactly one of jwks and jwks_uri');
    }
    if (input.jwks === undefined && input.jwksUri === undefined && input.federatedOnly !== true) {
      throw invalid('jwks', 'private_key_jwt needs exactly one of jwks and jwks_uri');
    }
    if (input.jwks !== undefined) keys = validateJwks(input.jwks, maxKeys);
    else if (input.jwksUri !== undefined) jwksUri = validateJwksUri(input.jwksUri);
    // A registered algorithm no registered key can produce would lock the client out.
    if (
      keys &&
      signingAlg !== undefined &&
      !keys.some((key) => jwkFitsAlgorithm(key, signingAlg!))
    ) {
      throw invalid(
        'token_endpoint_auth_signing_alg',
        `no key in jwks can sign with ${signingAlg}`,
      );
    }
  } else if (input.federatedOnly === true) {
    throw invalid('federated_only', 'only private_key_jwt clients use federated credentials');
  } else if (input.jwks !== undefined) {
    throw invalid('jwks', 'only private_key_jwt clients register keys');
  } else if (input.jwksUri !== undefined) {
    throw invalid('jwks_uri', 'only private_key_jwt clients register keys');
  }

  if (input.secret !== undefined) {
    if (input.secret !== 'generate') throw invalid('client_secret', 'secrets are always generated');
    if (!SECRET_METHODS.includes(method)) {
      throw invalid('client_secret', `${method} clients have no secret`);
    }
  }

  if (input.scope !== undefined && (typeof input.scope !== 'string' || !SCOPE.test(input.scope))) {
    throw invalid('scope', 'must be space-separated scope tokens (RFC 6749 §3.3)');
  }

  if (input.grantTypes !== undefined && !Array.isArray(input.grantTypes)) {
    throw invalid('grant_types', 'must be an array of distinct non-empty strings');
  }
  const grantTypes =
    input.grantTypes === undefined ? ['client_credentials'] : [...input.grantTypes];
  if (
    grantTypes.some(
      (grant) => typeof grant !== 'string' || grant.length === 0 || grant.length > 255,
    ) ||
    new Set(grantTypes).size !== grantTypes.length
  ) {
    throw invalid('grant_types', 'must be an array of distinct non-empty strings');
  }

  if (input.audiencePolicy !== undefined && !['compat', 'strict'].includes(input.audiencePolicy)) {
    throw invalid('audience_policy', 'must be compat or strict');
  }
  if (
    input.requireStringAudience !== undefined &&
    typeof input.requireStringAudience !== 'boolean'
  ) {
    throw invalid('require_string_audience', 'must be a boolean');
  }
  const lifetime = input.maxAssertionLifetimeSeconds;
  if (lifetime !== undefined && (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600)) {
    throw invalid('max_assertion_lifetime', 'must be an integer between 1 and 3600 seconds');
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    throw invalid('enabled', 'must be a boolean');
  }

  return {
    ...(input.clientId !== undefined && { clientId: input.clientId }),
    method,
    ...(signingAlg !== undefined && { signingAlg }),
    ...(keys !== undefined && { keys }),
    ...(jwksUri !== undefined && { jwksUri }),
    ...(input.scope !== undefined && { scope: input.scope }),
    grantTypes,
    ...(input.audiencePolicy !== undefined && { audiencePolicy: input.audiencePolicy }),
    requireStringAudience: input.requireStringAudience ?? false,
    ...(lifetime !== undefined && { maxAssertionLifetimeSeconds: lifetime }),
    metadata: validateMetadata(input.metadata),
    enabled: input.enabled ?? true,
  };
}

function validateJwks(jwks: unknown, maxKeys: number): JWK[] {
  try {
    // SPEC S3: public keys only, kty/crv/alg consistent, RSA ≥ 2048 bits, unique kids, a cap.
    const keys = parseJwks(jwks, { maxKeys, minKeys: 1 });
    return keys.map((key) => structuredClone(key) as JWK);
  } catch (error) {
    if (error instanceof InvalidJwksError) {
      throw error.keyIndex === undefined
        ? invalid('jwks', error.problem)
        : invalid(`jwks.keys[${error.keyIndex}]`, error.problem);
    }
    throw error;
  }
}

/**
 * A public signing JWK (SPEC S3): the same rules as a registered `jwks` member. Returns a
 * mutable copy; throws `invalid_client_metadata` naming `field`.
 */
export function validatePublicJwk(jwk: unknown, field: string): JWK {
  try {
    return structuredClone(parsePublicJwk(jwk)) as JWK;
  } catch (error) {
    if (error instanceof InvalidJwksError) throw invalid(field, error.problem);
    throw error;
  }
}

function validateJwksUri(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) {
    throw invalid('jwks_uri', 'must be a URL of at most 2048 characters');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('jwks_uri', 'must be an absolute URL');
  }
  // SPEC S3 admission (https only, address checks) is enforced by the registration endpoint;
  // here only the shape is checked.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid('jwks_uri', 'must be an https URL');
  }
  if (url.username || url.password) throw invalid('jwks_uri', 'must not carry credentials');
  if (url.hash) throw invalid('jwks_uri', 'must not have a fragment');
  return value;
}

function validateMetadata(metadata: unknown): Record<string, unknown> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw invalid('metadata', 'must be an object');
  }
  for (const forbidden of ['client_secret', 'registration_access_token', 'jwks']) {
    if (forbidden in metadata) throw invalid(forbidden, 'is not free-form metadata');
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch {
    throw invalid('metadata', 'must be JSON');
  }
  if (Buffer.byteLength(json, 'utf8') > MAX_METADATA_BYTES) {
    throw invalid('metadata', `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
  }
  return JSON.parse(json) as Record<string, unknown>;
}

export function validateValidity(validity: CredentialValidity): {
  notBefore?: Date;
  expiresAt?: Date;
} {
  const { notBefore, expiresAt } = validity;
  for (const [field, value] of [
    ['not_before', notBefore],
    ['expires_at', expiresAt],
  ] as const) {
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw invalid(field, 'must be a valid date');
    }
  }
  if (notBefore && expiresAt && expiresAt <= notBefore) {
    throw invalid('expires_at', 'must be after not_before');
  }
  return { ...(notBefore && { notBefore }), ...(expiresAt && { expiresAt }) };
}

/** Input of `ClientRegistryService.addFederatedCredential` (SPEC S9). */
export interface FederatedCredentialInput {
  /** The token `iss` (an http(s) URL without query or fragment), compared exactly. */
  readonly issuer: string;
  /** Exact subject, or a pattern with `*` segments (see `subjectPatternProblem`). */
  readonly subject: string;
  /** The audience the token must carry. */
  readonly audience: string;
  /** Where the issuer's keys are; exclusive with `jwks`; neither: OpenID discovery. */
  readonly jwksUri?: string;
  readonly jwks?: { readonly keys: readonly JWK[] };
  /** Claims the token must carry with these exact string values (at most 10). */
  readonly requiredClaims?: Readonly<Record<string, string>>;
  /** Token lifetime cap in seconds (1..86400). Default 3600. */
  readonly maxLifetimeSeconds?: number;
  /** Default `single_use`. */
  readonly replay?: FederatedReplayPolicy;
  readonly name?: string;
  readonly notBefore?: Date;
  readonly expiresAt?: Date;
}

/** Validates a federated credential; errors are `invalid_client_metadata` naming the field. */
export function validateFederatedCredential(
  input: FederatedCredentialInput,
  maxKeys: number,
): FederatedCredentialInput {
  if (typeof input !== 'object' || input === null)
    throw invalid('federated_credential', 'must be an object');
  const issuer = input.issuer;
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 512) {
    throw invalid('issuer', 'must be a URL of 1 to 512 characters');
  }
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw invalid('issuer', 'must be an absolute URL');
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search ||
    url.hash ||
    issuer.includes('#')
  ) {
    throw invalid('issuer', 'must be an http(s) URL without query or fragment');
  }
  const problem = subjectPatternProblem(input.subject);
  if (problem) throw invalid('subject', problem);
  if (
    typeof input.audience !== 'string' ||
    input.audience.length === 0 ||
    input.audience.length > 512
  ) {
    throw invalid('audience', 'must be a string of 1 to 512 characters');
  }
  if (input.jwks !== undefined && input.jwksUri !== undefined) {
    throw invalid('jwks', 'give at most one of jwks and jwks_uri');
  }
  const keys = input.jwks === undefined ? undefined : validateJwks(input.jwks, maxKeys);
  const jwksUri = input.jwksUri === undefined ? undefined : validateJwksUri(input.jwksUri);
  const claims = input.requiredClaims ?? {};
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw invalid('required_claims', 'must be an object of string values');
  }
  const entries = Object.entries(claims);
  if (entries.length > 10) throw invalid('required_claims', 'at most 10 claims');
  for (const [name, value] of entries) {
    if (
      !/^[A-Za-z0-9_.:-]{1,64}$/.test(name) ||
      ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'].includes(name)
    ) {
      throw invalid(
        'required_claims',
        `claim name ${JSON.stringify(name.slice(0, 64))} is not allowed`,
      );
    }
    if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
      throw invalid(`required_claims.${name}`, 'must be a string of 1 to 512 characters');
    }
  }
  const lifetime = input.maxLifetimeSeconds;
  if (
    lifetime !== undefined &&
    (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86_400)
  ) {
    throw invalid('max_lifetime', 'must be an integer between 1 and 86400 seconds');
  }
  const replay = input.replay ?? 'single_use';
  if (replay !== 'single_use' && replay !== 'reuse_within_lifetime') {
    throw invalid('replay', 'must be single_use or reuse_within_lifetime');
  }
  if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 255)) {
    throw invalid('name', 'must be at most 255 characters');
  }
  const window = validateValidity({
    ...(input.notBefore !== undefined && { notBefore: input.notBefore }),
    ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
  });
  return {
    issuer,
    subject: input.subject,
    audience: input.audience,
    ...(keys !== undefined && { jwks: { keys } }),
    ...(jwksUri !== undefined && { jwksUri }),
    requiredClaims: Object.fromEntries(entries),
    ...(lifetime !== undefined && { maxLifetimeSeconds: lifetime }),
    replay,
    ...(input.name !== undefined && { name: input.name }),
    ...window,
  };
}
