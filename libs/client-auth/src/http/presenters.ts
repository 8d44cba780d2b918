import type { JWK } from 'jose';
import type {
  AudienceReadiness,
  AuditEvent,
  AuthFailureRecord,
  ClientRegistration,
  StoredCredentialInfo,
} from '../persistence/client-registry.service.js';
import type { FederatedCredential } from '../core/types.js';
import type { InitialAccessTokenInfo } from '../persistence/initial-access-token.service.js';

/**
 * Wire forms of registry objects. Registration responses follow RFC 7591 §3.2.1 (times in epoch
 * seconds); admin responses use RFC 3339 strings. None carries a secret, digest or ciphertext.
 */

/** Metadata members kept in `ClientEntity.metadata` and echoed back (RFC 7591 §2). */
export const FREE_FORM_METADATA = [
  'redirect_uris',
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'contacts',
  'software_id',
  'software_version',
] as const;

const iso = (date: Date | undefined) => (date === undefined ? undefined : date.toISOString());
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Displayed state of a credential at `now`. */
export function credentialState(
  credential: StoredCredentialInfo,
  now: Date,
): 'active' | 'expiring' | 'expired' | 'revoked' | 'not_yet_valid' {
  if (credential.status === 'revoked') return 'revoked';
  if (credential.expiresAt !== undefined && credential.expiresAt <= now) return 'expired';
  if (credential.notBefore !== undefined && credential.notBefore > now) return 'not_yet_valid';
  return credential.expiresAt !== undefined ? 'expiring' : 'active';
}

/** The RFC 7591 metadata of a client, as registration responses carry it. */
export function registeredMetadata(client: ClientRegistration, now: Date): Record<string, unknown> {
  const keys: JWK[] = client.credentials
    .filter((credential) => credential.kind === 'public_key' && credential.jwk)
    .filter((credential) => {
      const state = credentialState(credential, now);
      return state === 'active' || state === 'expiring';
    })
    .map((credential) => credential.jwk!);
  const body: Record<string, unknown> = {
    client_id: client.clientId,
    client_id_issued_at: epochSeconds(client.createdAt),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    grant_types: [...client.grantTypes],
    response_types: [],
  };
  if (client.tokenEndpointAuthSigningAlg !== undefined) {
    body.token_endpoint_auth_signing_alg = client.tokenEndpointAuthSigningAlg;
  }
  if (client.jwksUri !== undefined) body.jwks_uri = client.jwksUri;
  else if (client.tokenEndpointAuthMethod === 'private_key_jwt') body.jwks = { keys };
  if (client.scope !== undefined) body.scope = client.scope;
  for (const name of FREE_FORM_METADATA) {
    if (client.metadata[name] !== undefined) body[name] = client.metadata[name];
  }
  return body;
}

/** A credential for the admin API. */
export function presentCredential(credential: StoredCredentialInfo, now: Date) {
  return {
    id: credential.id,
    kind: credential.kind,
    ...(credential.kid !== undefined && { kid: credential.kid }),
    ...(credential.alg !== undefined && { alg: credential.alg }),
    ...(credential.jwk !== undefined && { jwk: credential.jwk }),
    status: credentialState(credential, now),
    not_before: iso(credential.notBefore),
    expires_at: iso(credential.expiresAt) ?? null,
    last_used_at: iso(credential.lastUsedAt) ?? null,
    created_at: credential.createdAt.toISOString(),
  };
}

/** A client for the admin API. */
export function presentClient(client: ClientRegistration, now: Date) {
  const metadata = registeredMetadata(client, now);
  delete metadata.client_id_issued_at;
  delete metadata.jwks;
  return {
    ...metadata,
    enabled: client.enabled,
    audience_policy: client.audiencePolicy ?? null,
    require_string_audience: client.requireStringAudience ?? false,
    max_assertion_lifetime: client.maxAssertionLifetimeSeconds ?? null,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
    version: client.version,
    last_authenticated_at: iso(client.lastAuthenticatedAt) ?? null,
    last_audience_form: client.lastAudienceForm ?? null,
    last_assertion_typ: client.lastAssertionTyp ?? null,
    credentials: client.credentials.map((credential) => presentCredential(credential, now)),
  };
}

/** An audit event for the admin API. */
export function presentAuditEvent(event: AuditEvent) {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    client_id: event.clientId ?? null,
    details: event.details,
  };
}

/** An authentication failure for the admin API. */
export function presentFailure(failure: AuthFailureRecord) {
  return {
    id: failure.id,
    at: failure.at.toISOString(),
    client_id: failure.clientId ?? null,
    reason: failure.reason,
    method: failure.method ?? null,
    request_id: failure.requestId ?? null,
    detail: failure.detail,
  };
}

/** The readiness view for the admin API. */
export function presentReadiness(readiness: AudienceReadiness) {
  return {
    client_id: readiness.clientId,
    token_endpoint_auth_method: readiness.tokenEndpointAuthMethod,
    audience_policy: readiness.audiencePolicy ?? null,
    last_audience_form: readiness.lastAudienceForm ?? null,
    last_assertion_typ: readiness.lastAssertionTyp ?? null,
    last_authenticated_at: iso(readiness.lastAuthenticatedAt) ?? null,
    passes_strict: readiness.passesStrict ?? null,
    reason: readiness.reason,
  };
}

/** An initial access token for the admin API (never the token itself, except once on issue). */
export function presentInitialAccessToken(info: InitialAccessTokenInfo) {
  return {
    id: info.id,
    description: info.description ?? null,
    created_by: info.createdBy,
    created_at: info.createdAt.toISOString(),
    expires_at: iso(info.expiresAt) ?? null,
    max_uses: info.maxUses ?? null,
    uses: info.uses,
    revoked_at: iso(info.revokedAt) ?? null,
    status: info.status,
  };
}

/** A federated credential for the admin API (its static keys are public; shown as given). */
export function presentFederatedCredential(credential: FederatedCredential, now: Date) {
  const state =
    credential.status === 'revoked'
      ? 'revoked'
      : credential.expiresAt !== undefined && credential.expiresAt <= now
        ? 'expired'
        : credential.notBefore !== undefined && credential.notBefore > now
          ? 'not_yet_valid'
          : credential.expiresAt !== undefined
            ? 'expiring'
            : 'active';
  return {
    id: credential.id,
    kind: 'federated',
    name: credential.name ?? null,
    issuer: credential.issuer,
    subject: credential.subject,
    audience: credential.audience,
    jwks_uri: credential.jwksUri ?? null,
    ...(credential.jwks && { jwks: credential.jwks }),
    required_claims: credential.requiredClaims ?? {},
    max_lifetime: credential.maxLifetimeSeconds ?? null,
    replay: credential.replay,
    status: state,
    not_before: credential.notBefore?.toISOString() ?? null,
    expires_at: credential.expiresAt?.toISOString() ?? null,
    last_used_at: credential.lastUsedAt?.toISOString() ?? null,
  };
}
