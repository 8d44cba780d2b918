import { randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import type {
  DataSource,
  EntityManager,
  EntityTarget,
  ObjectLiteral,
  QueryDeepPartialEntity,
} from 'typeorm';
import { digestSecret, generateClientSecret } from '../core/crypto/secret-digest.js';
import { DependencyUnavailableError, OAuthError } from '../core/errors.js';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type AudienceForm,
  type AudiencePolicy,
  type ClientCredential,
  type RegisteredClient,
  type TokenEndpointAuthMethod,
} from '../core/types.js';
import { sortCredentials, toClientCredential } from './client-mapper.js';
import { isUniqueViolation } from './database-errors.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { ClientCredentialEntity } from './entities/client-credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../core/assertion/algorithms.js';
import { clientSecretAad, type SecretCipher } from './secret-cipher.js';

/** JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const SECRET_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
];

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
}

/** Result of {@link ClientRegistryService.createClient}. */
export interface CreatedClient {
  readonly client: ClientRegistration;
  /** The generated secret, shown once (secret methods only); stored as a digest or encrypted. */
  readonly clientSecret?: string;
}

/** Validity window of a credential. */
export interface CredentialValidity {
  readonly notBefore?: Date;
  readonly expiresAt?: Date;
}

/** Options of {@link ClientRegistryService}. */
export interface ClientRegistryServiceOptions {
  /** Most keys a client may hold (SPEC S3 cap on keys). Default 20. */
  readonly maxKeys?: number;
  /** Clock, for timestamps. Default `() => new Date()`. */
  readonly clock?: () => Date;
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
      'invalid_request',
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    private readonly clientStore?: { invalidate(clientId: string): void },
    options: ClientRegistryServiceOptions = {},
  ) {
    this.#maxKeys = options.maxKeys ?? 20;
    this.#clock = options.clock ?? (() => new Date());
  }

  /**
   * Registers a client (SPEC S3; RFC 7591 §2, §3.2.1). Secret methods get a generated secret,
   * returned once: stored as a digest for `client_secret_basic/post`, encrypted for
   * `client_secret_jwt` (which needs it raw for HMAC). `private_key_jwt` needs exactly one of
   * `jwks` and `jwksUri`. Invalid input throws `OAuthError('invalid_client_metadata')`.
   */
  async createClient(input: CreateClientInput, actor = 'system'): Promise<CreatedClient> {
    const valid = validateCreateInput(input, this.#maxKeys);
    const now = this.#clock();
    const clientId = valid.clientId ?? randomBytes(16).toString('base64url');

    const client = new ClientEntity();
    Object.assign(client, {
      clientId,
      enabled: valid.enabled,
      tokenEndpointAuthMethod: valid.method,
      tokenEndpointAuthSigningAlg: valid.signingAlg ?? null,
      jwksUri: valid.jwksUri ?? null,
      audiencePolicy: valid.audiencePolicy ?? null,
      requireStringAudience: valid.requireStringAudience,
      maxAssertionLifetime: valid.maxAssertionLifetimeSeconds ?? null,
      scope: valid.scope ?? null,
      grantTypes: valid.grantTypes,
      metadata: valid.metadata,
      registrationAccessTokenDigest: null,
      lastAudienceForm: null,
      lastAssertionTyp: null,
      lastAuthenticatedAt: null,
      createdAt: now,
      updatedAt: now,
      version: 1,
    } satisfies Omit<ClientEntity, 'credentials'>);

    const credentials: ClientCredentialEntity[] = (valid.keys ?? []).map((jwk) =>
      publicKeyRow(clientId, jwk, {}, now),
    );
    let clientSecret: string | undefined;
    if (SECRET_METHODS.includes(valid.method)) {
      clientSecret = generateClientSecret();
      credentials.push(this.#secretRow(clientId, valid.method, clientSecret, now));
    }

    await this.#transaction(
      clientId,
      async (manager) => {
        await insertRows(manager, ClientEntity, client);
        if (credentials.length > 0) await insertRows(manager, ClientCredentialEntity, credentials);
        await audit(manager, now, actor, 'client.created', clientId, {
          token_endpoint_auth_method: valid.method,
          ...(valid.jwksUri && { jwks_uri: valid.jwksUri }),
          enabled: valid.enabled,
          credentials: credentials.map(describeCredential),
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
    };
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
    const overlap = options.overlapSeconds ?? 0;
    if (!Number.isInteger(overlap) || overlap < 0 || overlap > 30 * 86_400) {
      throw invalid('overlap_seconds', 'must be an integer between 0 and 2592000');
    }
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
      await this.dataSource.transaction(work);
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw mapError(error) ?? new DependencyUnavailableError('client-registry', { cause: error });
    } finally {
      this.clientStore?.invalidate(clientId);
    }
  }
}

function invalid(field: string, problem: string): OAuthError {
  return new OAuthError('invalid_client_metadata', `${field}: ${problem}`);
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

// ---------------------------------------------------------------------------------------------
// Input validation (minimal; full RFC 7591 validation comes with the registration endpoint).
// ---------------------------------------------------------------------------------------------

interface ValidCreateInput {
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

function validateCreateInput(input: CreateClientInput, maxKeys: number): ValidCreateInput {
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
    if ((input.jwks === undefined) === (input.jwksUri === undefined)) {
      throw invalid('jwks', 'private_key_jwt needs exactly one of jwks and jwks_uri');
    }
    if (input.jwks !== undefined) keys = validateJwks(input.jwks, maxKeys);
    else jwksUri = validateJwksUri(input.jwksUri);
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
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(keys)) {
    throw invalid('jwks', 'must be a JWK Set: an object with a "keys" array (RFC 7517 §5)');
  }
  if (keys.length === 0) throw invalid('jwks', 'must hold at least one key');
  if (keys.length > maxKeys) throw invalid('jwks', `may hold at most ${maxKeys} keys`);
  const valid = keys.map((key, index) => validatePublicJwk(key, `jwks.keys[${index}]`));
  const seen = new Set<string>();
  for (const key of valid) {
    if (key.kid === undefined) continue;
    // SPEC S3: unique kids, so a kid selects one key (RFC 7517 §4.5).
    if (seen.has(key.kid)) throw invalid('jwks', `duplicate kid "${key.kid}"`);
    seen.add(key.kid);
  }
  return valid;
}

/** A public signing JWK; returns a copy. Refuses private and symmetric members (SPEC S3). */
export function validatePublicJwk(jwk: unknown, field: string): JWK {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw invalid(field, 'must be a JWK object');
  }
  const key = jwk as Record<string, unknown>;
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (member in key)
      throw invalid(field, `must be a public key (has private member "${member}")`);
  }
  const required: Record<string, string[]> = {
    RSA: ['n', 'e'],
    EC: ['crv', 'x', 'y'],
    OKP: ['crv', 'x'],
  };
  const members = typeof key.kty === 'string' ? required[key.kty] : undefined;
  if (!members) throw invalid(field, 'kty must be RSA, EC or OKP');
  for (const member of members) {
    if (typeof key[member] !== 'string' || key[member] === '') {
      throw invalid(field, `${key.kty} key needs "${member}"`);
    }
  }
  if (
    key.kid !== undefined &&
    (typeof key.kid !== 'string' || key.kid.length === 0 || key.kid.length > 255)
  ) {
    throw invalid(field, 'kid must be a string of 1 to 255 characters');
  }
  if (
    key.alg !== undefined &&
    (typeof key.alg !== 'string' || !PRIVATE_KEY_JWT_ALGORITHMS.includes(key.alg))
  ) {
    throw invalid(field, `alg must be one of ${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')}`);
  }
  if (key.use !== undefined && key.use !== 'sig') throw invalid(field, 'use must be "sig"');
  return JSON.parse(JSON.stringify(key)) as JWK;
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

function validateValidity(validity: CredentialValidity): { notBefore?: Date; expiresAt?: Date } {
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
