import type { JWK } from 'jose';
import { InvalidJwksError } from '../../core/jwks/jwks-errors.js';
import { parseJwks } from '../../core/jwks/jwks-validation.js';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClientCredential,
  type RegisteredClient,
  type TokenEndpointAuthMethod,
} from '../../core/types.js';
import { CliFailure } from '../cli-io.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(document: Json, name: string): string | undefined {
  const value = document[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new CliFailure(`--client-file: ${name} must be a non-empty string`);
  }
  return value;
}

function optionalDate(value: unknown, name: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new CliFailure(`--client-file: ${name} is not a date`);
  return date;
}

/** Credentials of the admin API form (`GET /admin/clients/:id`): keys with their state. */
function adminCredentials(list: unknown[]): ClientCredential[] {
  return list.flatMap((entry, index): ClientCredential[] => {
    if (!isObject(entry))
      throw new CliFailure(`--client-file: credentials[${index}] is not an object`);
    if (entry.kind !== 'public_key' || !isObject(entry.jwk)) return [];
    let jwk: JWK;
    try {
      [jwk] = parseJwks({ keys: [entry.jwk] }) as [JWK];
    } catch (cause) {
      const why = cause instanceof InvalidJwksError ? cause.message : 'invalid';
      throw new CliFailure(`--client-file: credentials[${index}].jwk: ${why}`, { cause });
    }
    const notBefore = optionalDate(entry.not_before, `credentials[${index}].not_before`);
    const expiresAt = optionalDate(entry.expires_at, `credentials[${index}].expires_at`);
    return [
      {
        id: typeof entry.id === 'string' ? entry.id : `credentials[${index}]`,
        kind: 'public_key',
        ...(typeof entry.kid === 'string' && { kid: entry.kid }),
        ...(typeof entry.alg === 'string' && { alg: entry.alg }),
        jwk,
        ...(notBefore && { notBefore }),
        ...(expiresAt && { expiresAt }),
        // The admin API shows `expired`/`not_yet_valid` from the dates; only revocation is a status.
        status: entry.status === 'revoked' ? 'revoked' : 'active',
      },
    ];
  });
}

/**
 * Builds the registration `explain` judges an assertion against from a JSON document: an RFC 7591
 * registration response or RFC 7592 read (`client_id`, `token_endpoint_auth_method`,
 * `token_endpoint_auth_signing_alg`, `jwks` or `jwks_uri`, `client_secret`), or the admin API's
 * client (`GET /admin/clients/:id`, which adds `enabled`, `audience_policy`,
 * `require_string_audience`, `max_assertion_lifetime` and `credentials` with their validity).
 * `jwks` keys obey the registration rules (`parseJwks`). `secret` supplies a `client_secret_jwt`
 * secret the document does not hold.
 */
export function registeredClientFromDocument(document: unknown, secret?: string): RegisteredClient {
  if (!isObject(document)) throw new CliFailure('--client-file: the document is not a JSON object');
  const clientId = optionalString(document, 'client_id');
  if (clientId === undefined) throw new CliFailure('--client-file: client_id is missing');
  // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic.
  const method = (optionalString(document, 'token_endpoint_auth_method') ??
    'client_secret_basic') as TokenEndpointAuthMethod;
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method)) {
    throw new CliFailure('--client-file: token_endpoint_auth_method is not a known method');
  }
  const signingAlg = optionalString(document, 'token_endpoint_auth_signing_alg');
  const jwksUri = optionalString(document, 'jwks_uri');
  if (jwksUri !== undefined && document.jwks !== undefined && document.jwks !== null) {
    throw new CliFailure('--client-file: jwks and jwks_uri are mutually exclusive (RFC 7591 §2)');
  }

  const credentials: ClientCredential[] = [];
  if (Array.isArray(document.credentials)) {
    credentials.push(...adminCredentials(document.credentials));
  } else if (document.jwks !== undefined && document.jwks !== null) {
    let keys: readonly JWK[];
    try {
      keys = parseJwks(document.jwks);
    } catch (cause) {
      const why = cause instanceof InvalidJwksError ? cause.message : 'invalid';
      throw new CliFailure(`--client-file: jwks: ${why}`, { cause });
    }
    keys.forEach((jwk, index) =>
      credentials.push({
        id: `jwks[${index}]`,
        kind: 'public_key',
        ...(jwk.kid !== undefined && { kid: jwk.kid }),
        ...(jwk.alg !== undefined && { alg: jwk.alg }),
        jwk,
        status: 'active',
      }),
    );
  }
  const clientSecret = secret ?? optionalString(document, 'client_secret');
  if (method === 'client_secret_jwt' && clientSecret !== undefined) {
    credentials.push({
      id: 'client_secret',
      kind: 'secret',
      secret: clientSecret,
      status: 'active',
    });
  }

  const enabled = document.enabled;
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw new CliFailure('--client-file: enabled must be a boolean');
  }
  const policy = document.audience_policy;
  if (policy !== undefined && policy !== null && policy !== 'compat' && policy !== 'strict') {
    throw new CliFailure('--client-file: audience_policy must be compat or strict');
  }
  const maxLifetime = document.max_assertion_lifetime;
  if (
    maxLifetime !== undefined &&
    maxLifetime !== null &&
    !(Number.isInteger(maxLifetime) && (maxLifetime as number) > 0)
  ) {
    throw new CliFailure('--client-file: max_assertion_lifetime must be a positive integer');
  }
  const scope = optionalString(document, 'scope');
  return {
    clientId,
    enabled: enabled ?? true,
    tokenEndpointAuthMethod: method,
    ...(signingAlg !== undefined && { tokenEndpointAuthSigningAlg: signingAlg }),
    ...(jwksUri !== undefined && { jwksUri }),
    credentials,
    ...(policy !== undefined && policy !== null && { audiencePolicy: policy }),
    requireStringAudience: document.require_string_audience === true,
    ...(typeof maxLifetime === 'number' && { maxAssertionLifetimeSeconds: maxLifetime }),
    ...(scope !== undefined && { scope }),
    grantTypes: Array.isArray(document.grant_types)
      ? document.grant_types.filter((v): v is string => typeof v === 'string')
      : ['client_credentials'],
    metadata: {},
  };
}
