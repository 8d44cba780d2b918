import { randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryDeepPartialEntity,
} from 'typeorm';
import {
  digestSecret,
  generateClientSecret,
  generateOpaqueToken,
  secretMatchesDigest,
} from '../core/crypto/secret-digest.js';
import { DependencyUnavailableError, OAuthError } from '../core/errors.js';
import { JwksFetchError } from '../core/jwks/jwks-errors.js';
import type { JwksUriAdmission } from '../core/jwks/jwks-uri-admission.js';
import type {
  AudienceForm,
  ClientCredential,
  FederatedCredential,
  RegisteredClient,
  TokenEndpointAuthMethod,
} from '../core/types.js';
import { sortCredentials, toClientCredential, toFederatedCredential } from './client-mapper.js';
import { FederatedCredentialEntity } from './entities/federated-credential.entity.js';
import { isUniqueViolation } from './database-errors.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { AuthFailureEntity } from './entities/auth-failure.entity.js';
import { ClientCredentialEntity } from './entities/client-credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import {
  invalid,
  SECRET_METHODS,
  validateCreateInput,
  validateFederatedCredential,
  validatePublicJwk,
  validateValidity,
  type CreateClientInput,
  type FederatedCredentialInput,
  type CredentialValidity,
  type ValidCreateInput,
} from './client-metadata-validation.js';
import { consumeInitialAccessToken } from './initial-access-token.service.js';
import { clientSecretAad, type SecretCipher } from './secret-cipher.js';
import { runTransaction } from './serialized-transaction.js';

export type {
  CreateClientInput,
  CredentialValidity,
  FederatedCredentialInput,
} from './client-metadata-validation.js';

/** A stored credential as the registry shows it: never a digest, ciphertext or secret. */
export interface StoredCredentialInfo extends Omit<ClientCredential, 'secret' | 'secretDigest'> {
  readonly createdAt: Date;
  readonly lastUsedAt?: Date;
}

/** A client as the registry shows it to operators: the registration plus bookkeeping. */
export interface ClientRegistration extends Omit<RegisteredClient, 'credentials'> {
  readonly credentials: readonly StoredCredentialInfo[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Incremented by every change. */
  readonly version: number;
  readonly lastAuthenticatedAt?: Date;
  /** Audience form of the last accepted assertion (SPEC S2.8 readiness). */
  readonly lastAudienceForm?: AudienceForm;
  /** `typ` of the last accepted assertion (SPEC S2.8 readiness). */
  readonly lastAssertionTyp?: string;
}

/** Result of {@link ClientRegistryService.createClient} and {@link ClientRegistryService.replaceClient}. */
export interface CreatedClient {
  readonly client: ClientRegistration;
  /** The generated secret, shown once (secret methods only); stored as a digest or encrypted. */
  readonly clientSecret?: string;
  /** RFC 7592 registration access token, shown once; stored as a digest. */
  readonly registrationAccessToken?: string;
}

/** Options of {@link ClientRegistryService.createClient}. */
export interface CreateClientOptions {
  /** Who makes the change, for the audit trail. Default `system`. */
  readonly actor?: string;
  /** Issue an RFC 7592 registration access token (returned once, stored as a digest). */
  readonly issueRegistrationAccessToken?: boolean;
  /**
   * Id of the initial access token that authorized an RFC 7591 registration: one use is
   * counted in the same transaction, and the registration fails (`invalid_token`) if the token
   * was revoked, expired or used up meanwhile.
   */
  readonly initialAccessTokenId?: string;
}

/** Options of {@link ClientRegistryService.replaceClient}. */
export interface ReplaceClientOptions {
  /** Who makes the change, for the audit trail. Default `system`. */
  readonly actor?: string;
  /** Issue a new registration access token (RFC 7592 §2.2 rotation on update). */
  readonly rotateRegistrationAccessToken?: boolean;
  /**
   * The `client_secret` the request carried, if any: it must match the current secret
   * (RFC 7592 §2.2), or the update is refused.
   */
  readonly currentSecret?: string;
  /** Refuse the update with `conflict` unless the stored version is this one (optimistic locking). */
  readonly expectedVersion?: number;
}

/** Filters of {@link ClientRegistryService.listClients}. */
export interface ListClientsQuery {
  /** Page size, 1..100. Default 20. */
  readonly limit?: number;
  /** Rows to skip. Default 0. */
  readonly offset?: number;
  /** Case-insensitive substring of the client id or `client_name`. */
  readonly name?: string;
  readonly method?: TokenEndpointAuthMethod;
  readonly status?: 'enabled' | 'disabled';
}

/** One page of a listing. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

/** A registry change as the audit trail shows it. */
export interface AuditEvent {
  readonly id: string;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly clientId?: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A recent authentication failure of a client (SPEC S2.9). */
export interface AuthFailureRecord {
  readonly id: string;
  readonly at: Date;
  readonly clientId?: string;
  readonly reason: string;
  readonly method?: string;
  readonly requestId?: string;
  readonly detail: string;
}

/** Filters of the audit and failure listings. */
export interface ListEventsQuery {
  /** 1..500. Default 50. */
  readonly limit?: number;
  readonly clientId?: string;
  /** Only entries strictly older than this. */
  readonly before?: Date;
}

/** Whether a client is ready for the `strict` audience policy (SPEC S2.8). */
export interface AudienceReadiness {
  readonly clientId: string;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** The effective policy for this client: its override, else the server's. */
  readonly audiencePolicy?: 'compat' | 'strict';
  readonly lastAudienceForm?: AudienceForm;
  readonly lastAssertionTyp?: string;
  readonly lastAuthenticatedAt?: Date;
  /**
   * `true`: its last assertion would pass `strict`; `false`: it would be refused; `undefined`:
   * no assertion seen yet (or the client does not use assertions).
   */
  readonly passesStrict?: boolean;
  /** Why, in words, for the operator. */
  readonly reason: string;
}

/** Options of {@link ClientRegistryService}. */
export interface ClientRegistryServiceOptions {
  /** Most keys a client may hold (SPEC S3 cap on keys). Default 20. */
  readonly maxKeys?: number;
  /** Clock, for timestamps. Default `() => new Date()`. */
  readonly clock?: () => Date;
  /**
   * Checks a `jwks_uri` before it is stored (SPEC S3: SSRF checks on the resolved addresses, and
   * the keys fetched once). Default: only the URL's shape is checked — the Nest module always
   * supplies `createJwksUriAdmission()` with the configured allow-list.
   */
  readonly admitJwksUri?: JwksUriAdmission;
}

/**
 * The client, or one of its credentials, does not exist. The admin API answers it with 404;
 * RFC 7592 endpoints with 401 `invalid_token` (RFC 7592 §2).
 */
export class ClientNotFoundError extends OAuthError {
  constructor(
    readonly clientId: string,
    readonly credentialId?: string,
  ) {
    super(
      'not_found',
      credentialId
        ? 'credential_id: no such credential for this client'
        : 'client_id: no such client',
    );
  }
}

/**
 * Writes to the client registry (SPEC S3). Each method is one transaction that also writes an
 * audit event, so a failure leaves nothing behind (SPEC S10); the client store's cache entry is
 * dropped after every change. Returned objects never carry a stored digest or ciphertext.
 *
 * @example
 * ```ts
 * const registry = new ClientRegistryService(dataSource, cipher, clientStore);
 * const { client } = await registry.createClient({
 *   tokenEndpointAuthMethod: 'private_key_jwt',
 *   jwks: { keys: [publicJwk] },
 * });
 * ```
 */
export class ClientRegistryService {
  readonly #maxKeys: number;
  readonly #clock: () => Date;
  readonly #admitJwksUri?: JwksUriAdmission;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    private readonly clientStore?: { invalidate(clientId: string): void },
    options: ClientRegistryServiceOptions = {},
  ) {
    this.#maxKeys = options.maxKeys ?? 20;
    this.#clock = options.clock ?? (() => new Date());
    this.#admitJwksUri = options.admitJwksUri;
  }

  /**
   * Registers a client (SPEC S3; RFC 7591 §2, §3.2.1). Secret methods get a generated secret,
   * returned once: stored as a digest for `client_secret_basic/post`, encrypted for
   * `client_secret_jwt` (which needs it raw for HMAC). `private_key_jwt` needs exactly one of
   * `jwks` and `jwksUri`; a `jwksUri` is admitted (address checks, one fetch) before anything is
   * written. Invalid input throws `OAuthError('invalid_client_metadata')`.
   */
  async createClient(
    input: CreateClientInput,
    actorOrOptions: string | CreateClientOptions = {},
  ): Promise<CreatedClient> {
    const options: CreateClientOptions =
      typeof actorOrOptions === 'string' ? { actor: actorOrOptions } : actorOrOptions;
    const actor = options.actor ?? 'system';
    const valid = validateCreateInput(input, this.#maxKeys);
    if (valid.jwksUri !== undefined) await this.#admit(valid.jwksUri);
    const now = this.#clock();
    const clientId = valid.clientId ?? randomBytes(16).toString('base64url');
    const registrationAccessToken = options.issueRegistrationAccessToken
      ? generateOpaqueToken()
      : undefined;

    const client = new ClientEntity();
    Object.assign(client, {
      clientId,
      enabled: valid.enabled,
      ...clientColumns(valid),
      registrationAccessTokenDigest:
        registrationAccessToken === undefined ? null : digestSecret(registrationAccessToken),
      lastAudienceForm: null,
      lastAssertionTyp: null,
      lastAuthenticatedAt: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    } satisfies Omit<ClientEntity, 'credentials'>);

    const { rows: credentials, clientSecret } = this.#initialCredentials(clientId, valid, now);

    await this.#transaction(
      clientId,
      async (manager) => {
        if (options.initialAccessTokenId !== undefined) {
          await consumeInitialAccessToken(manager, options.initialAccessTokenId, now);
        }
        await insertRows(manager, ClientEntity, client);
        if (credentials.length > 0) await insertRows(manager, ClientCredentialEntity, credentials);
        await audit(manager, now, actor, 'client.created', clientId, {
          token_endpoint_auth_method: valid.method,
          ...(valid.jwksUri && { jwks_uri: valid.jwksUri }),
          enabled: valid.enabled,
          credentials: credentials.map(describeCredential),
          ...(options.initialAccessTokenId && {
            initial_access_token_id: options.initialAccessTokenId,
          }),
        });
      },
      (error) =>
        isUniqueViolation(error)
          ? new OAuthError('invalid_client_metadata', 'client_id: already registered')
          : undefined,
    );
    return {
      client: toClientRegistration(client, credentials),
      ...(clientSecret !== undefined && { clientSecret }),
      ...(registrationAccessToken !== undefined && { registrationAccessToken }),
    };
  }

  /**
   * Replaces a client's metadata (RFC 7592 §2.2 semantics, also used by the admin API): every
   * field takes the new value or its default. Switching `token_endpoint_auth_method` removes the
   * old method's credentials and issues the new one's (a new secret, or the new keys); keeping
   * it keeps the secret, and for `jwks` keeps the keys that are still listed (their history
   * intact), removes the others and adds the new ones. One transaction, one audit event.
   */
  async replaceClient(
    clientId: string,
    input: Omit<CreateClientInput, 'clientId'>,
    options: ReplaceClientOptions = {},
  ): Promise<CreatedClient> {
    const actor = options.actor ?? 'system';
    const valid = validateCreateInput({ ...input, clientId }, this.#maxKeys);
    const before = await this.#read(clientId);
    if (!before) throw new ClientNotFoundError(clientId);
    if (valid.jwksUri !== undefined && valid.jwksUri !== before.client.jwksUri) {
      await this.#admit(valid.jwksUri);
    }
    const thumbprints = valid.keys ? await Promise.all(valid.keys.map(thumbprintOf)) : [];
    const now = this.#clock();
    const registrationAccessToken = options.rotateRegistrationAccessToken
      ? generateOpaqueToken()
      : undefined;
    let clientSecret: string | undefined;
    let written: ClientEntity | undefined;
    let finalRows: ClientCredentialEntity[] = [];

    await this.#transaction(clientId, async (manager) => {
      const client = await this.#lockClient(manager, clientId);
      if (options.expectedVersion !== undefined && client.version !== options.expectedVersion) {
        throw new OAuthError(
          'conflict',
          `version: the client is at version ${client.version}, not ${options.expectedVersion}`,
        );
      }
      const rows = await manager.findBy(ClientCredentialEntity, { clientId });
      if (
        options.currentSecret !== undefined &&
        !this.#secretMatches(rows, options.currentSecret)
      ) {
        throw invalid('client_secret', 'does not match the current secret (RFC 7592 §2.2)');
      }
      const removed: ClientCredentialEntity[] = [];
      const added: ClientCredentialEntity[] = [];
      const kept: ClientCredentialEntity[] = [];
      if (client.tokenEndpointAuthMethod !== valid.method) {
        removed.push(...rows);
        // Federated credentials belong to private_key_jwt: a method switch clears them too.
        await manager.delete(FederatedCredentialEntity, { clientId });
        const fresh = this.#initialCredentials(clientId, valid, now);
        added.push(...fresh.rows);
        clientSecret = fresh.clientSecret;
      } else if (valid.method === 'private_key_jwt') {
        const wanted = new Map(thumbprints.map((print, index) => [print, valid.keys![index]!]));
        for (const row of rows) {
          if (row.kind !== 'public_key' || row.jwk === null) {
            removed.push(row);
            continue;
          }
          const print = await thumbprintOf(row.jwk);
          const match = wanted.get(print);
          if (match && (match.kid ?? null) === row.kid && (match.alg ?? null) === row.alg) {
            kept.push(row);
            wanted.delete(print);
          } else {
            removed.push(row);
          }
        }
        for (const jwk of wanted.values()) added.push(publicKeyRow(clientId, jwk, {}, now));
      } else {
        kept.push(...rows);
      }
      if (removed.length > 0) {
        await manager.delete(
          ClientCredentialEntity,
          removed.map((row) => row.id),
        );
      }
      if (added.length > 0) await insertRows(manager, ClientCredentialEntity, added);
      const columns = clientColumns(valid);
      const enabled = input.enabled === undefined ? client.enabled : valid.enabled;
      await manager
        .createQueryBuilder()
        .update(ClientEntity)
        .set({
          ...columns,
          enabled,
          ...(registrationAccessToken !== undefined && {
            registrationAccessTokenDigest: digestSecret(registrationAccessToken),
          }),
          updatedAt: now,
          version: () => 'version + 1',
        } as QueryDeepPartialEntity<ClientEntity>)
        .where('client_id = :clientId', { clientId })
        .execute();
      await audit(manager, now, actor, 'client.updated', clientId, {
        changed: [
          ...changedFields(client, columns),
          ...(enabled !== client.enabled ? ['enabled'] : []),
        ],
        ...(client.tokenEndpointAuthMethod !== valid.method && {
          token_endpoint_auth_method: valid.method,
        }),
        ...(removed.length > 0 && { removed_credentials: removed.map(describeCredential) }),
        ...(added.length > 0 && { added_credentials: added.map(describeCredential) }),
        ...(registrationAccessToken !== undefined && { registration_access_token_rotated: true }),
      });
      written = Object.assign(new ClientEntity(), client, columns, {
        enabled,
        updatedAt: now,
        version: client.version + 1,
      });
      finalRows = [...kept, ...added];
    });
    return {
      client: toClientRegistration(written!, finalRows),
      ...(clientSecret !== undefined && { clientSecret }),
      ...(registrationAccessToken !== undefined && { registrationAccessToken }),
    };
  }

  /**
   * Whether `token` is the client's current registration access token (RFC 7592 §3): compared
   * as a digest in constant time, read from the database. False for an unknown client.
   */
  async verifyRegistrationAccessToken(clientId: string, token: string): Promise<boolean> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return false;
    let digest: string | null | undefined;
    try {
      const row = await this.dataSource.getRepository(ClientEntity).findOne({
        where: { clientId },
        select: { clientId: true, registrationAccessTokenDigest: true },
      });
      digest = row?.registrationAccessTokenDigest;
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
    // Compare even when there is no digest, so timing does not tell which clients exist.
    const matches = secretMatchesDigest(token, digest ?? digestSecret(randomUUID()));
    return matches && typeof digest === 'string';
  }

  /** The client as registered, read from the database (not the cache), or undefined. */
  async getClient(clientId: string): Promise<ClientRegistration | undefined> {
    try {
      const client = await this.dataSource.getRepository(ClientEntity).findOneBy({ clientId });
      if (!client) return undefined;
      const credentials = await this.dataSource
        .getRepository(ClientCredentialEntity)
        .findBy({ clientId });
      return toClientRegistration(client, credentials);
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
  }

  /** Enables or disables a client (SPEC S2.3: a disabled client cannot authenticate). */
  async setEnabled(
    clientId: string,
    enabled: boolean,
    actor = 'system',
  ): Promise<ClientRegistration> {
    if (typeof enabled !== 'boolean') throw invalid('enabled', 'must be a boolean');
    const now = this.#clock();
    await this.#transaction(clientId, async (manager) => {
      await this.#lockClient(manager, clientId);
      await bumpClient(manager, clientId, now, { enabled });
      await audit(
        manager,
        now,
        actor,
        enabled ? 'client.enabled' : 'client.disabled',
        clientId,
        {},
      );
    });
    return this.#mustGet(clientId);
  }

  /** Deletes a client and its credentials; the audit trail keeps the event. */
  async deleteClient(clientId: string, actor = 'system'): Promise<void> {
    const now = this.#clock();
    await this.#transaction(clientId, async (manager) => {
      const client = await this.#lockClient(manager, clientId);
      await manager.delete(ClientCredentialEntity, { clientId });
      await manager.delete(ClientEntity, { clientId });
      await audit(manager, now, actor, 'client.deleted', clientId, {
        token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      });
    });
  }

  /**
   * Adds a public key to a `private_key_jwt` client that registered `jwks` (SPEC S3). Refuses
   * private members and a `kid` the client already has (any status).
   */
  async addPublicKey(
    clientId: string,
    jwk: JWK,
    validity: CredentialValidity = {},
    actor = 'system',
  ): Promise<StoredCredentialInfo> {
    const key = validatePublicJwk(jwk, 'jwk');
    const window = validateValidity(validity);
    const now = this.#clock();
    if (window.expiresAt && window.expiresAt <= now) {
      throw invalid('expires_at', 'must be in the future');
    }
    const row = publicKeyRow(clientId, key, window, now);
    await this.#transaction(
      clientId,
      async (manager) => {
        const client = await this.#lockClient(manager, clientId);
        if (client.tokenEndpointAuthMethod !== 'private_key_jwt') {
          throw invalid(
            'token_endpoint_auth_method',
            'keys can only be added to private_key_jwt clients',
          );
        }
        if (client.jwksUri !== null) {
          throw invalid('jwks_uri', 'the client uses jwks_uri; its keys are published there');
        }
        const existing = await manager.findBy(ClientCredentialEntity, {
          clientId,
          kind: 'public_key',
        });
        if (row.kid !== null && existing.some((credential) => credential.kid === row.kid)) {
          throw invalid('jwk', `kid "${row.kid}" is already registered for this client`);
        }
        const active = existing.filter((credential) => credential.status === 'active');
        if (active.length >= this.#maxKeys) {
          throw invalid('jwks', `a client may hold at most ${this.#maxKeys} keys`);
        }
        await insertRows(manager, ClientCredentialEntity, row);
        await bumpClient(manager, clientId, now);
        await audit(manager, now, actor, 'credential.added', clientId, describeCredential(row));
      },
      (error) =>
        isUniqueViolation(error)
          ? invalid('jwk', `kid "${row.kid}" is already registered for this client`)
          : undefined,
    );
    return toCredentialInfo(row);
  }

  /** Revokes one credential of a client (SPEC S3). Revoking a revoked credential changes nothing. */
  async revokeCredential(clientId: string, credentialId: string, actor = 'system'): Promise<void> {
    const now = this.#clock();
    await this.#transaction(clientId, async (manager) => {
      await this.#lockClient(manager, clientId);
      const row = await manager.findOneBy(ClientCredentialEntity, { id: credentialId, clientId });
      if (!row) throw new ClientNotFoundError(clientId, credentialId);
      if (row.status === 'revoked') return;
      await manager.update(ClientCredentialEntity, { id: credentialId }, { status: 'revoked' });
      await bumpClient(manager, clientId, now);
      await audit(manager, now, actor, 'credential.revoked', clientId, describeCredential(row));
    });
  }

  /**
   * Issues a new secret for a `client_secret_basic`, `client_secret_post` or `client_secret_jwt`
   * client and returns it (shown once). Previous secrets are revoked, or with `overlapSeconds`
   * stay valid that long (rotation with overlap, SPEC S3).
   */
  async rotateSecret(
    clientId: string,
    options: { readonly overlapSeconds?: number } = {},
    actor = 'system',
  ): Promise<string> {
    const overlap = validateOverlap(options.overlapSeconds ?? 0);
    const now = this.#clock();
    const secret = generateClientSecret();
    await this.#transaction(clientId, async (manager) => {
      const client = await this.#lockClient(manager, clientId);
      if (!SECRET_METHODS.includes(client.tokenEndpointAuthMethod)) {
        throw invalid(
          'token_endpoint_auth_method',
          'the client does not authenticate with a secret',
        );
      }
      const previous = (await manager.findBy(ClientCredentialEntity, { clientId })).filter(
        (row) => row.kind !== 'public_key' && row.status === 'active',
      );
      const until = new Date(now.getTime() + overlap * 1000);
      for (const row of previous) {
        if (overlap === 0) {
          await manager.update(ClientCredentialEntity, { id: row.id }, { status: 'revoked' });
        } else if (row.expiresAt === null || row.expiresAt > until) {
          await manager.update(ClientCredentialEntity, { id: row.id }, { expiresAt: until });
        }
      }
      const fresh = this.#secretRow(clientId, client.tokenEndpointAuthMethod, secret, now);
      await insertRows(manager, ClientCredentialEntity, fresh);
      await bumpClient(manager, clientId, now);
      await audit(manager, now, actor, 'secret.rotated', clientId, {
        credential_id: fresh.id,
        previous: previous.map((row) => row.id),
        overlap_seconds: overlap,
      });
    });
    return secret;
  }

  /**
   * Adds `jwk` and gives every other active key of the client `overlapSeconds` before it
   * expires (SPEC S3 rotation with overlap; 0 expires them at once). Returns the new key.
   */
  async rotateKey(
    clientId: string,
    jwk: JWK,
    options: { readonly overlapSeconds?: number; readonly actor?: string } = {},
  ): Promise<StoredCredentialInfo> {
    const overlap = validateOverlap(options.overlapSeconds ?? 86_400);
    const key = validatePublicJwk(jwk, 'jwk');
    const now = this.#clock();
    const row = publicKeyRow(clientId, key, {}, now);
    const until = new Date(now.getTime() + overlap * 1000);
    await this.#transaction(
      clientId,
      async (manager) => {
        const client = await this.#lockClient(manager, clientId);
        assertInlineKeys(client);
        const existing = await manager.findBy(ClientCredentialEntity, {
          clientId,
          kind: 'public_key',
        });
        if (row.kid !== null && existing.some((credential) => credential.kid === row.kid)) {
          throw invalid('jwk', `kid "${row.kid}" is already registered for this client`);
        }
        const previous = existing.filter(
          (credential) =>
            credential.status === 'active' &&
            (credential.expiresAt === null || credential.expiresAt > until),
        );
        const live = existing.filter((credential) => isLive(credential, now));
        if (live.length >= this.#maxKeys) {
          throw invalid('jwks', `a client may hold at most ${this.#maxKeys} keys`);
        }
        for (const credential of previous) {
          await manager.update(ClientCredentialEntity, { id: credential.id }, { expiresAt: until });
        }
        await insertRows(manager, ClientCredentialEntity, row);
        await bumpClient(manager, clientId, now);
        await audit(manager, now, options.actor ?? 'system', 'credential.rotated', clientId, {
          ...describeCredential(row),
          expiring: previous.map((credential) => credential.id),
          overlap_seconds: overlap,
        });
      },
      (error) =>
        isUniqueViolation(error)
          ? invalid('jwk', `kid "${row.kid}" is already registered for this client`)
          : undefined,
    );
    return toCredentialInfo(row);
  }

  /**
   * Sets a credential to expire at `at` (default now): authentication refuses it from then on.
   * An already earlier expiry is kept.
   */
  async expireCredential(
    clientId: string,
    credentialId: string,
    options: { readonly at?: Date; readonly actor?: string } = {},
  ): Promise<StoredCredentialInfo> {
    const now = this.#clock();
    const at = options.at ?? now;
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
      throw invalid('at', 'must be a valid date');
    }
    let result: ClientCredentialEntity | undefined;
    await this.#transaction(clientId, async (manager) => {
      await this.#lockClient(manager, clientId);
      const row = await manager.findOneBy(ClientCredentialEntity, { id: credentialId, clientId });
      if (!row) throw new ClientNotFoundError(clientId, credentialId);
      result = row;
      if (row.status === 'revoked' || (row.expiresAt !== null && row.expiresAt <= at)) return;
      await manager.update(ClientCredentialEntity, { id: credentialId }, { expiresAt: at });
      row.expiresAt = at;
      await bumpClient(manager, clientId, now);
      await audit(manager, now, options.actor ?? 'system', 'credential.expired', clientId, {
        ...describeCredential(row),
        expires_at: at.toISOString(),
      });
    });
    return toCredentialInfo(result!);
  }

  /**
   * Adds a federated credential (SPEC S9) to a `private_key_jwt` client: tokens of `issuer`
   * whose subject, audience and required claims match authenticate it. A `jwksUri` is admitted
   * like a client's (SSRF checks, one fetch).
   */
  async addFederatedCredential(
    clientId: string,
    input: FederatedCredentialInput,
    actor = 'system',
  ): Promise<FederatedCredential> {
    const valid = validateFederatedCredential(input, this.#maxKeys);
    if (valid.jwksUri !== undefined) await this.#admit(valid.jwksUri);
    const now = this.#clock();
    const row = Object.assign(new FederatedCredentialEntity(), {
      id: randomUUID(),
      clientId,
      name: valid.name ?? null,
      issuer: valid.issuer,
      jwksUri: valid.jwksUri ?? null,
      jwks: valid.jwks ? { keys: [...valid.jwks.keys] } : null,
      subject: valid.subject,
      audience: valid.audience,
      requiredClaims: { ...(valid.requiredClaims ?? {}) },
      maxLifetime: valid.maxLifetimeSeconds ?? null,
      replayPolicy: valid.replay ?? 'single_use',
      status: 'active',
      notBefore: valid.notBefore ?? now,
      expiresAt: valid.expiresAt ?? null,
      lastUsedAt: null,
      createdAt: now,
    } satisfies Omit<FederatedCredentialEntity, 'client'>);
    await this.#transaction(clientId, async (manager) => {
      const client = await this.#lockClient(manager, clientId);
      if (client.tokenEndpointAuthMethod !== 'private_key_jwt') {
        throw invalid(
          'token_endpoint_auth_method',
          'federated credentials can only be added to private_key_jwt clients',
        );
      }
      const existing = await manager.countBy(FederatedCredentialEntity, {
        clientId,
        status: 'active',
      });
      if (existing >= this.#maxKeys) {
        throw invalid('federated_credentials', `a client may hold at most ${this.#maxKeys}`);
      }
      await insertRows(manager, FederatedCredentialEntity, row);
      await bumpClient(manager, clientId, now);
      await audit(manager, now, actor, 'federated_credential.added', clientId, {
        federated_credential_id: row.id,
        issuer: row.issuer,
        subject: row.subject,
        audience: row.audience,
        replay: row.replayPolicy,
      });
    });
    return toFederatedCredential(row);
  }

  /** Revokes a federated credential; revoking twice changes nothing. Unknown: `not_found`. */
  async revokeFederatedCredential(
    clientId: string,
    credentialId: string,
    actor = 'system',
  ): Promise<void> {
    const now = this.#clock();
    await this.#transaction(clientId, async (manager) => {
      await this.#lockClient(manager, clientId);
      const row = await manager.findOneBy(FederatedCredentialEntity, {
        id: credentialId,
        clientId,
      });
      if (!row) throw new ClientNotFoundError(clientId, credentialId);
      if (row.status === 'revoked') return;
      await manager.update(FederatedCredentialEntity, { id: credentialId }, { status: 'revoked' });
      await bumpClient(manager, clientId, now);
      await audit(manager, now, actor, 'federated_credential.revoked', clientId, {
        federated_credential_id: credentialId,
        issuer: row.issuer,
        subject: row.subject,
      });
    });
  }

  /** The client's federated credentials, oldest first (empty for an unknown client). */
  async listFederatedCredentials(clientId: string): Promise<FederatedCredential[]> {
    try {
      const rows = await this.dataSource
        .getRepository(FederatedCredentialEntity)
        .find({ where: { clientId }, order: { createdAt: 'ASC', id: 'ASC' } });
      return rows.map(toFederatedCredential);
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
  }

  /** A page of clients, newest first, filtered by name, method and status. */
  async listClients(query: ListClientsQuery = {}): Promise<Page<ClientRegistration>> {
    const limit = boundedInteger(query.limit ?? 20, 1, 100, 'limit');
    const offset = boundedInteger(query.offset ?? 0, 0, 1_000_000, 'offset');
    try {
      const builder = this.dataSource
        .getRepository(ClientEntity)
        .createQueryBuilder('c')
        .orderBy('c.created_at', 'DESC')
        .addOrderBy('c.client_id', 'ASC');
      if (query.method !== undefined) {
        builder.andWhere('c.token_endpoint_auth_method = :method', { method: query.method });
      }
      if (query.status !== undefined) {
        builder.andWhere('c.enabled = :enabled', { enabled: query.status === 'enabled' });
      }
      if (query.name !== undefined && query.name !== '') {
        // client_name lives in the JSON metadata text: only that member is searched, not the
        // whole document (whose keys and other members would match too).
        const clientName =
          this.dataSource.options.type === 'postgres'
            ? "(CAST(c.metadata AS json) ->> 'client_name')"
            : "json_extract(c.metadata, '$.client_name')";
        const pattern = `%${escapeLike(query.name.toLowerCase())}%`;
        builder.andWhere(
          `(LOWER(c.client_id) LIKE :pattern ESCAPE '\\' OR LOWER(${clientName}) LIKE :pattern ESCAPE '\\')`,
          { pattern },
        );
      }
      const [clients, total] = await builder.skip(offset).take(limit).getManyAndCount();
      const ids = clients.map((client) => client.clientId);
      const rows =
        ids.length === 0
          ? []
          : await this.dataSource
              .getRepository(ClientCredentialEntity)
              .createQueryBuilder('k')
              .where('k.client_id IN (:...ids)', { ids })
              .getMany();
      const items = clients.map((client) =>
        toClientRegistration(
          client,
          rows.filter((row) => row.clientId === client.clientId),
        ),
      );
      return { items, total, limit, offset };
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
  }

  /** Audit events, newest first (SPEC S3). */
  async listAuditEvents(query: ListEventsQuery = {}): Promise<AuditEvent[]> {
    const events = await this.#newest(AuditEventEntity, query);
    return events.map((event) => ({
      id: event.id,
      at: event.at,
      actor: event.actor,
      action: event.action,
      ...(event.clientId !== null && { clientId: event.clientId }),
      details: event.details,
    }));
  }

  /** Recent authentication failures, newest first (SPEC S2.9, S3). */
  async listFailures(query: ListEventsQuery = {}): Promise<AuthFailureRecord[]> {
    const failures = await this.#newest(AuthFailureEntity, query);
    return failures.map((failure) => ({
      id: failure.id,
      at: failure.at,
      ...(failure.clientId !== null && { clientId: failure.clientId }),
      reason: failure.reason,
      ...(failure.method !== null && { method: failure.method }),
      ...(failure.requestId !== null && { requestId: failure.requestId }),
      detail: failure.detail,
    }));
  }

  /** The newest rows of a time-ordered table (`at`, `id`, `client_id`), filtered and bounded. */
  async #newest<T extends AuditEventEntity | AuthFailureEntity>(
    entity: new () => T,
    query: ListEventsQuery,
  ): Promise<T[]> {
    const limit = boundedInteger(query.limit ?? 50, 1, 500, 'limit');
    try {
      const builder = this.dataSource
        .getRepository<T>(entity)
        .createQueryBuilder('r')
        .orderBy('r.at', 'DESC')
        .addOrderBy('r.id', 'DESC')
        .take(limit);
      if (query.clientId !== undefined) {
        builder.andWhere('r.client_id = :clientId', { clientId: query.clientId });
      }
      if (query.before !== undefined) {
        builder.andWhere('r.at < :before', { before: query.before.getTime() });
      }
      return await builder.getMany();
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
  }

  /**
   * The audience-readiness view of SPEC S2.8 for one client: the form and `typ` of its last
   * accepted assertion and whether it would pass `strict`.
   */
  async readiness(
    clientId: string,
    serverPolicy: 'compat' | 'strict' = 'compat',
  ): Promise<AudienceReadiness> {
    const client = await this.#mustGet(clientId);
    return audienceReadiness(client, serverPolicy);
  }

  /** Reads a client and its credential rows (no lock), or undefined. */
  async #read(
    clientId: string,
  ): Promise<{ client: ClientEntity; rows: ClientCredentialEntity[] } | undefined> {
    try {
      const client = await this.dataSource.getRepository(ClientEntity).findOneBy({ clientId });
      if (!client) return undefined;
      const rows = await this.dataSource.getRepository(ClientCredentialEntity).findBy({ clientId });
      return { client, rows };
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
  }

  /** SPEC S3 `jwks_uri` admission; failures become `invalid_client_metadata` naming the cause. */
  async #admit(uri: string): Promise<void> {
    if (!this.#admitJwksUri) return;
    try {
      await this.#admitJwksUri(uri);
    } catch (error) {
      if (error instanceof JwksFetchError) throw invalid('jwks_uri', error.message);
      throw error;
    }
  }

  /** The credentials a new registration starts with: its keys, or a generated secret. */
  #initialCredentials(
    clientId: string,
    valid: ValidCreateInput,
    now: Date,
  ): { rows: ClientCredentialEntity[]; clientSecret?: string } {
    const rows = (valid.keys ?? []).map((jwk) => publicKeyRow(clientId, jwk, {}, now));
    if (!SECRET_METHODS.includes(valid.method)) return { rows };
    const clientSecret = generateClientSecret();
    rows.push(this.#secretRow(clientId, valid.method, clientSecret, now));
    return { rows, clientSecret };
  }

  /** Whether `secret` is one of the client's usable secrets (digest or encrypted). */
  #secretMatches(rows: readonly ClientCredentialEntity[], secret: string): boolean {
    const now = this.#clock();
    let matched = false;
    for (const row of rows) {
      if (!isLive(row, now)) continue;
      if (row.kind === 'secret_digest' && row.secretDigest !== null) {
        matched = secretMatchesDigest(secret, row.secretDigest) || matched;
      } else if (row.kind === 'secret' && row.secretCiphertext !== null) {
        const stored = this.cipher.decrypt(
          row.secretCiphertext,
          clientSecretAad(row.clientId, row.id),
        );
        matched = secretMatchesDigest(secret, digestSecret(stored)) || matched;
      }
    }
    return matched;
  }

  #secretRow(
    clientId: string,
    method: TokenEndpointAuthMethod,
    secret: string,
    now: Date,
  ): ClientCredentialEntity {
    const row = credentialRow(clientId, now);
    if (method === 'client_secret_jwt') {
      row.kind = 'secret';
      row.secretCiphertext = this.cipher.encrypt(secret, clientSecretAad(clientId, row.id));
    } else {
      row.kind = 'secret_digest';
      row.secretDigest = digestSecret(secret);
    }
    return row;
  }

  async #mustGet(clientId: string): Promise<ClientRegistration> {
    const client = await this.getClient(clientId);
    if (!client) throw new ClientNotFoundError(clientId);
    return client;
  }

  /** Reads the client inside the transaction, locking its row where the database can. */
  async #lockClient(manager: EntityManager, clientId: string): Promise<ClientEntity> {
    const query = manager.createQueryBuilder(ClientEntity, 'c').where('c.client_id = :clientId', {
      clientId,
    });
    if (manager.connection.options.type === 'postgres') query.setLock('pessimistic_write');
    const client = await query.getOne();
    if (!client) throw new ClientNotFoundError(clientId);
    return client;
  }

  /**
   * Runs `work` in one transaction, then drops the cache entry. Input errors pass through;
   * `mapError` may turn a database error into one; anything else is an outage.
   */
  async #transaction(
    clientId: string,
    work: (manager: EntityManager) => Promise<void>,
    mapError: (error: unknown) => Error | undefined = () => undefined,
  ): Promise<void> {
    try {
      await runTransaction(this.dataSource, work);
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw mapError(error) ?? new DependencyUnavailableError('client-registry', { cause: error });
    } finally {
      this.clientStore?.invalidate(clientId);
    }
  }
}

/** The client columns a registration or replacement sets from validated input. */
function clientColumns(valid: ValidCreateInput) {
  return {
    tokenEndpointAuthMethod: valid.method,
    tokenEndpointAuthSigningAlg: valid.signingAlg ?? null,
    jwksUri: valid.jwksUri ?? null,
    audiencePolicy: valid.audiencePolicy ?? null,
    requireStringAudience: valid.requireStringAudience,
    maxAssertionLifetime: valid.maxAssertionLifetimeSeconds ?? null,
    scope: valid.scope ?? null,
    grantTypes: valid.grantTypes,
    metadata: valid.metadata,
  } satisfies Partial<ClientEntity>;
}

/** Names (wire form) of the columns a replacement changes, for the audit event. */
function changedFields(before: ClientEntity, after: ReturnType<typeof clientColumns>): string[] {
  const names: Record<keyof ReturnType<typeof clientColumns>, string> = {
    tokenEndpointAuthMethod: 'token_endpoint_auth_method',
    tokenEndpointAuthSigningAlg: 'token_endpoint_auth_signing_alg',
    jwksUri: 'jwks_uri',
    audiencePolicy: 'audience_policy',
    requireStringAudience: 'require_string_audience',
    maxAssertionLifetime: 'max_assertion_lifetime',
    scope: 'scope',
    grantTypes: 'grant_types',
    metadata: 'metadata',
  };
  return (Object.keys(names) as (keyof typeof names)[])
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => names[key]);
}

/** RFC 7638 thumbprint: identifies a key by its material, whatever its `kid`. */
async function thumbprintOf(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** Active, started and not yet expired. */
function isLive(row: ClientCredentialEntity, now: Date): boolean {
  return (
    row.status === 'active' &&
    row.notBefore <= now &&
    (row.expiresAt === null || row.expiresAt > now)
  );
}

function assertInlineKeys(client: ClientEntity): void {
  if (client.tokenEndpointAuthMethod !== 'private_key_jwt') {
    throw invalid(
      'token_endpoint_auth_method',
      'keys can only be added to private_key_jwt clients',
    );
  }
  if (client.jwksUri !== null) {
    throw invalid('jwks_uri', 'the client uses jwks_uri; its keys are published there');
  }
}

function validateOverlap(overlap: number): number {
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > 30 * 86_400) {
    throw invalid('overlap_seconds', 'must be an integer between 0 and 2592000');
  }
  return overlap;
}

function boundedInteger(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OAuthError(
      'invalid_request',
      `${field}: must be an integer between ${min} and ${max}`,
    );
  }
  return value;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/**
 * SPEC S2.8: an assertion passes `strict` when its `aud` was the issuer alone — as a string, or
 * a one-member array unless the client requires a string.
 */
export function audienceReadiness(
  client: ClientRegistration,
  serverPolicy: 'compat' | 'strict',
): AudienceReadiness {
  const base = {
    clientId: client.clientId,
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    audiencePolicy: client.audiencePolicy ?? serverPolicy,
    ...(client.lastAudienceForm !== undefined && { lastAudienceForm: client.lastAudienceForm }),
    ...(client.lastAssertionTyp !== undefined && { lastAssertionTyp: client.lastAssertionTyp }),
    ...(client.lastAuthenticatedAt !== undefined && {
      lastAuthenticatedAt: client.lastAuthenticatedAt,
    }),
  };
  if (
    client.tokenEndpointAuthMethod !== 'private_key_jwt' &&
    client.tokenEndpointAuthMethod !== 'client_secret_jwt'
  ) {
    return { ...base, reason: 'the client does not authenticate with an assertion' };
  }
  switch (client.lastAudienceForm) {
    case undefined:
      return { ...base, reason: 'no accepted assertion recorded yet' };
    case 'issuer':
      return { ...base, passesStrict: true, reason: 'aud is the issuer identifier' };
    case 'issuer_array':
      return client.requireStringAudience
        ? {
            ...base,
            passesStrict: false,
            reason: 'aud is a one-member array but the client requires a string',
          }
        : { ...base, passesStrict: true, reason: 'aud is a one-member array holding the issuer' };
    case 'token_endpoint':
      return { ...base, passesStrict: false, reason: 'aud is the token endpoint URL' };
    case 'endpoint_url':
      return { ...base, passesStrict: false, reason: 'aud is the URL of the endpoint called' };
    case 'issuer_among_others':
      return { ...base, passesStrict: false, reason: 'aud holds values besides the issuer' };
  }
}

function credentialRow(clientId: string, now: Date): ClientCredentialEntity {
  const row = new ClientCredentialEntity();
  Object.assign(row, {
    id: randomUUID(),
    clientId,
    kid: null,
    alg: null,
    jwk: null,
    secretDigest: null,
    secretCiphertext: null,
    notBefore: now,
    expiresAt: null,
    status: 'active',
    lastUsedAt: null,
    createdAt: now,
  } satisfies Omit<ClientCredentialEntity, 'kind' | 'client'>);
  return row;
}

function publicKeyRow(
  clientId: string,
  jwk: JWK,
  validity: CredentialValidity,
  now: Date,
): ClientCredentialEntity {
  const row = credentialRow(clientId, now);
  row.kind = 'public_key';
  row.jwk = jwk;
  row.kid = jwk.kid ?? null;
  row.alg = jwk.alg ?? null;
  row.notBefore = validity.notBefore ?? now;
  row.expiresAt = validity.expiresAt ?? null;
  return row;
}

async function bumpClient(
  manager: EntityManager,
  clientId: string,
  now: Date,
  changes: Partial<Pick<ClientEntity, 'enabled'>> = {},
): Promise<void> {
  await manager
    .createQueryBuilder()
    .update(ClientEntity)
    .set({ ...changes, updatedAt: now, version: () => 'version + 1' })
    .where('client_id = :clientId', { clientId })
    .execute();
}

async function audit(
  manager: EntityManager,
  at: Date,
  actor: string,
  action: string,
  clientId: string,
  details: Record<string, unknown>,
): Promise<void> {
  const event = new AuditEventEntity();
  Object.assign(event, {
    id: randomUUID(),
    at,
    actor: actor.slice(0, 255),
    action,
    clientId,
    details,
  } satisfies AuditEventEntity);
  await insertRows(manager, AuditEventEntity, event);
}

/** One INSERT of whole rows (never `save`, which would turn a duplicate key into an UPDATE). */
async function insertRows<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  rows: T | T[],
): Promise<void> {
  await manager
    .createQueryBuilder()
    .insert()
    .into(target)
    .values(rows as QueryDeepPartialEntity<T> | QueryDeepPartialEntity<T>[])
    .updateEntity(false)
    .execute();
}

/** What an audit event says about a credential: never the secret, digest or key material. */
function describeCredential(row: ClientCredentialEntity): Record<string, unknown> {
  return {
    credential_id: row.id,
    kind: row.kind,
    ...(row.kid !== null && { kid: row.kid }),
    ...(row.alg !== null && { alg: row.alg }),
  };
}

function toCredentialInfo(row: ClientCredentialEntity): StoredCredentialInfo {
  return {
    ...toClientCredential(row, undefined),
    createdAt: row.createdAt,
    ...(row.lastUsedAt !== null && { lastUsedAt: row.lastUsedAt }),
  };
}

/** Maps stored rows to the operator view (no secret material). */
export function toClientRegistration(
  client: ClientEntity,
  credentials: readonly ClientCredentialEntity[],
): ClientRegistration {
  return {
    clientId: client.clientId,
    enabled: client.enabled,
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    ...(client.tokenEndpointAuthSigningAlg !== null && {
      tokenEndpointAuthSigningAlg: client.tokenEndpointAuthSigningAlg,
    }),
    ...(client.jwksUri !== null && { jwksUri: client.jwksUri }),
    credentials: sortCredentials(credentials).map(toCredentialInfo),
    ...(client.audiencePolicy !== null && { audiencePolicy: client.audiencePolicy }),
    requireStringAudience: client.requireStringAudience,
    ...(client.maxAssertionLifetime !== null && {
      maxAssertionLifetimeSeconds: client.maxAssertionLifetime,
    }),
    ...(client.scope !== null && { scope: client.scope }),
    grantTypes: [...client.grantTypes],
    metadata: { ...client.metadata },
    createdAt: client.createdAt,
    updatedAt: client.updatedAt,
    version: client.version,
    ...(client.lastAuthenticatedAt !== null && { lastAuthenticatedAt: client.lastAuthenticatedAt }),
    ...(client.lastAudienceForm !== null && { lastAudienceForm: client.lastAudienceForm }),
    ...(client.lastAssertionTyp !== null && { lastAssertionTyp: client.lastAssertionTyp }),
  };
}
