import type { ClientCredential, FederatedCredential, RegisteredClient } from '../core/types.js';
import type { FederatedCredentialEntity } from './entities/federated-credential.entity.js';
import type { ClientCredentialEntity } from './entities/client-credential.entity.js';
import type { ClientEntity } from './entities/client.entity.js';
import { clientSecretAad, type SecretCipher } from './secret-cipher.js';

/**
 * Maps a stored client and its credentials to the `RegisteredClient` client authentication
 * uses (SPEC S2, S3). Active `client_secret_jwt` secrets are decrypted; revoked ones are not.
 * Credentials come out oldest first. Throws `SecretDecryptionError` on a wrong key or a tampered
 * ciphertext.
 */
export function toRegisteredClient(
  entity: ClientEntity,
  credentials: readonly ClientCredentialEntity[],
  cipher: SecretCipher,
): RegisteredClient {
  return {
    clientId: entity.clientId,
    enabled: entity.enabled,
    tokenEndpointAuthMethod: entity.tokenEndpointAuthMethod,
    ...(entity.tokenEndpointAuthSigningAlg !== null && {
      tokenEndpointAuthSigningAlg: entity.tokenEndpointAuthSigningAlg,
    }),
    ...(entity.jwksUri !== null && { jwksUri: entity.jwksUri }),
    credentials: sortCredentials(credentials).map((row) => toClientCredential(row, cipher)),
    ...(entity.audiencePolicy !== null && { audiencePolicy: entity.audiencePolicy }),
    requireStringAudience: entity.requireStringAudience,
    ...(entity.maxAssertionLifetime !== null && {
      maxAssertionLifetimeSeconds: entity.maxAssertionLifetime,
    }),
    ...(entity.scope !== null && { scope: entity.scope }),
    grantTypes: [...entity.grantTypes],
    metadata: { ...entity.metadata },
  };
}

/** Maps one credential row; `cipher` decrypts an active `secret` (omit it to leave it out). */
export function toClientCredential(
  row: ClientCredentialEntity,
  cipher: SecretCipher | undefined,
): ClientCredential {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.kid !== null && { kid: row.kid }),
    ...(row.alg !== null && { alg: row.alg }),
    ...(row.jwk !== null && { jwk: row.jwk }),
    ...(cipher && row.secretDigest !== null && { secretDigest: row.secretDigest }),
    ...(cipher &&
      row.secretCiphertext !== null &&
      row.status === 'active' && {
        secret: cipher.decrypt(row.secretCiphertext, clientSecretAad(row.clientId, row.id)),
      }),
    notBefore: row.notBefore,
    ...(row.expiresAt !== null && { expiresAt: row.expiresAt }),
    status: row.status,
  };
}

/** Oldest first, ties by id, so every load yields the same order. */
export function sortCredentials<T extends ClientCredentialEntity>(rows: readonly T[]): T[] {
  return [...rows].sort(
    (a, b) =>
      a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Freezes a value and everything reachable from it (plain objects, arrays; Dates stay usable). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (value instanceof Date) return value;
  for (const key of Reflect.ownKeys(value))
    deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return Object.freeze(value);
}

/** Maps a federated credential row (SPEC S9). */
export function toFederatedCredential(row: FederatedCredentialEntity): FederatedCredential {
  return {
    id: row.id,
    clientId: row.clientId,
    issuer: row.issuer,
    ...(row.jwksUri !== null && { jwksUri: row.jwksUri }),
    ...(row.jwks !== null && { jwks: row.jwks }),
    subject: row.subject,
    audience: row.audience,
    requiredClaims: { ...row.requiredClaims },
    ...(row.maxLifetime !== null && { maxLifetimeSeconds: row.maxLifetime }),
    replay: row.replayPolicy,
    status: row.status,
    notBefore: row.notBefore,
    ...(row.expiresAt !== null && { expiresAt: row.expiresAt }),
    ...(row.name !== null && { name: row.name }),
    ...(row.lastUsedAt !== null && { lastUsedAt: row.lastUsedAt }),
  };
}
