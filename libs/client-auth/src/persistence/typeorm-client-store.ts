import { randomUUID } from 'node:crypto';
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import type {
  ClientAuthenticationFailure,
  ClientAuthenticationSuccess,
  ClientStore,
} from '../core/clients/client-store.interface.js';
import { DependencyUnavailableError } from '../core/errors.js';
import {
  TOKEN_ENDPOINT_AUTH_METHODS,
  type AudienceForm,
  type FederatedCredential,
  type RegisteredClient,
} from '../core/types.js';
import { deepFreeze, toFederatedCredential, toRegisteredClient } from './client-mapper.js';
import { FederatedCredentialEntity } from './entities/federated-credential.entity.js';
import { AuthFailureEntity } from './entities/auth-failure.entity.js';
import { ClientCredentialEntity } from './entities/client-credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import type { SecretCipher } from './secret-cipher.js';
import { TtlLruCache } from './ttl-lru-cache.js';
import { serializeWrite } from './serialized-transaction.js';

/** Options of {@link TypeOrmClientStore}. Every field has a default. */
export interface TypeOrmClientStoreOptions {
  /**
   * How long a loaded client is served from memory, in ms. This is the documented bound on how
   * long a change made through another instance can go unseen. Default 10000; 0 disables.
   */
  readonly cacheTtlMs?: number;
  /** How long "no such client" is remembered, in ms (blunts enumeration floods). Default 2000. */
  readonly negativeCacheTtlMs?: number;
  /** Bound on cached clients, and separately on cached misses. Default 10000. */
  readonly maxCacheEntries?: number;
  /**
   * Successful authentications are coalesced in memory and written at most once per client per
   * this many ms (`last_authenticated_at`, audience readiness, credential `last_used_at`).
   * Default 60000.
   */
  readonly successWriteIntervalMs?: number;
  /** Failures are buffered and written in batches this often, in ms. Default 1000. */
  readonly failureWriteIntervalMs?: number;
  /** Failures kept per client (newest first); older ones are pruned. Default 100. */
  readonly maxFailuresPerClient?: number;
  /** Failures kept in total (covers floods naming many unknown clients). Default 100000. */
  readonly maxFailureRows?: number;
  /** Failures buffered between writes; beyond it new ones are dropped. Default 1000. */
  readonly maxBufferedFailures?: number;
  /** Clock in epoch ms, for the cache TTLs and the pruning schedule. Default `Date.now`. */
  readonly clock?: () => number;
  /** Told about failed background writes (they never reach the request). Default: ignored. */
  readonly onBackgroundError?: (error: unknown, operation: 'success' | 'failure') => void;
}

const DEFAULTS = {
  cacheTtlMs: 10_000,
  negativeCacheTtlMs: 2_000,
  maxCacheEntries: 10_000,
  successWriteIntervalMs: 60_000,
  failureWriteIntervalMs: 1_000,
  maxFailuresPerClient: 100,
  maxFailureRows: 100_000,
  maxBufferedFailures: 1_000,
};

/** Longest client_id the registry stores (`oauth_client.client_id`). */
const CLIENT_ID_MAX = 255;
const DETAIL_MAX = 1000;
const REQUEST_ID_MAX = 128;
const TYP_MAX = 255;
/** Per-client prunes per batch; the global cap covers the rest. */
const MAX_PRUNES_PER_BATCH = 50;
const GLOBAL_PRUNE_INTERVAL_MS = 60_000;

interface PendingSuccess {
  at: number;
  audience?: { at: number; form: AudienceForm; typ: string | null };
  credentials: Map<string, number>;
}

/**
 * The registry as client authentication sees it (SPEC S2, S3): loads a client with its
 * credentials, caches the mapped object in process, and records outcomes without putting a
 * write on the request's path.
 *
 * The object `findClient` returns is the same (frozen) instance for as long as it is cached, so
 * callers may key a `WeakMap` on it, its credentials or their JWKs (e.g. to reuse imported keys).
 *
 * @example
 * ```ts
 * const store = new TypeOrmClientStore(dataSource, new SecretCipher(key), { cacheTtlMs: 10_000 });
 * const client = await store.findClient('my-client');
 * ```
 */
export class TypeOrmClientStore implements ClientStore {
  readonly #options: Required<Omit<TypeOrmClientStoreOptions, 'onBackgroundError'>> &
    Pick<TypeOrmClientStoreOptions, 'onBackgroundError'>;
  readonly #found: TtlLruCache<RegisteredClient>;
  readonly #missing: TtlLruCache<true>;
  readonly #federated: TtlLruCache<readonly FederatedCredential[]>;
  #issuers: { at: number; value: Promise<readonly string[]> } | undefined;
  readonly #inflight = new Map<string, { promise: Promise<RegisteredClient | undefined> }>();
  readonly #pendingSuccess = new Map<string, PendingSuccess>();
  #failureBuffer: AuthFailureEntity[] = [];
  #successTimer: NodeJS.Timeout | undefined;
  #failureTimer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = Promise.resolve();
  #lastGlobalPrune = Number.NEGATIVE_INFINITY;
  #droppedFailures = 0;
  #closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    options: TypeOrmClientStoreOptions = {},
  ) {
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, value]) => value !== undefined),
    ) as TypeOrmClientStoreOptions;
    this.#options = { ...DEFAULTS, clock: Date.now, ...defined };
    this.#found = new TtlLruCache(this.#options.maxCacheEntries, this.#options.cacheTtlMs);
    this.#missing = new TtlLruCache(
      this.#options.maxCacheEntries,
      this.#options.negativeCacheTtlMs,
    );
    this.#federated = new TtlLruCache(this.#options.maxCacheEntries, this.#options.cacheTtlMs);
  }

  /**
   * Federated credentials naming `issuer` exactly (SPEC S9), cached like clients and dropped on
   * every registry change. Throws `DependencyUnavailableError('client-store')` when the
   * database fails.
   */
  async findFederatedCredentials(issuer: string): Promise<readonly FederatedCredential[]> {
    if (issuer.length === 0 || issuer.length > 512) return [];
    const now = this.#options.clock();
    const hit = this.#federated.get(issuer, now);
    if (hit) return hit.value;
    let rows: FederatedCredentialEntity[];
    try {
      rows = await this.dataSource
        .getRepository(FederatedCredentialEntity)
        .find({ where: { issuer }, order: { createdAt: 'ASC', id: 'ASC' } });
    } catch (cause) {
      throw new DependencyUnavailableError('client-store', { cause });
    }
    const credentials = deepFreeze(rows.map(toFederatedCredential));
    this.#federated.set(issuer, credentials, now);
    return credentials;
  }

  /** Every issuer some federated credential names (cached for the client cache TTL). */
  federatedIssuers(): Promise<readonly string[]> {
    const now = this.#options.clock();
    if (this.#issuers && now - this.#issuers.at < this.#options.cacheTtlMs) {
      return this.#issuers.value;
    }
    const value = this.dataSource
      .getRepository(FederatedCredentialEntity)
      .createQueryBuilder('f')
      .select('DISTINCT f.issuer', 'issuer')
      .limit(1000)
      .getRawMany<{ issuer: string }>()
      .then((rows) => rows.map((row) => row.issuer))
      .catch((cause: unknown) => {
        this.#issuers = undefined;
        throw new DependencyUnavailableError('client-store', { cause });
      });
    this.#issuers = { at: now, value };
    return value;
  }

  /**
   * The client with its credentials, or undefined (SPEC S2.3). Served from the cache when
   * possible; concurrent lookups of one id share one query. Throws
   * `DependencyUnavailableError('client-store')` when the database fails.
   */
  async findClient(clientId: string): Promise<RegisteredClient | undefined> {
    if (clientId.length === 0 || clientId.length > CLIENT_ID_MAX) return undefined;
    const now = this.#options.clock();
    const hit = this.#found.get(clientId, now);
    if (hit) return hit.value;
    if (this.#missing.get(clientId, now)) return undefined;

    const running = this.#inflight.get(clientId);
    if (running) return running.promise;
    const flight = {} as { promise: Promise<RegisteredClient | undefined> };
    flight.promise = this.#load(clientId, flight);
    this.#inflight.set(clientId, flight);
    return flight.promise;
  }

  /** Drops the cached entry (and any lookup in progress) for `clientId`. Called on every change. */
  invalidate(clientId: string): void {
    this.#found.delete(clientId);
    this.#missing.delete(clientId);
    this.#inflight.delete(clientId);
    // Federated credentials are cached by issuer; a change to any client may touch any issuer.
    this.#federated.clear();
    this.#issuers = undefined;
  }

  /** Drops every cached entry. */
  invalidateAll(): void {
    this.#found.clear();
    this.#missing.clear();
    this.#inflight.clear();
    this.#federated.clear();
    this.#issuers = undefined;
  }

  async #load(
    clientId: string,
    flight: { promise: Promise<RegisteredClient | undefined> },
  ): Promise<RegisteredClient | undefined> {
    // A lookup invalidated while running must not fill the cache with what it read.
    const current = () => this.#inflight.get(clientId) === flight;
    try {
      let entity: ClientEntity | null;
      try {
        // One statement, so the client and its credentials are read from one snapshot.
        entity = await this.dataSource
          .createQueryBuilder(ClientEntity, 'client')
          .leftJoinAndSelect('client.credentials', 'credential')
          .where('client.client_id = :clientId', { clientId })
          .getOne();
      } catch (cause) {
        throw new DependencyUnavailableError('client-store', { cause });
      }
      const now = this.#options.clock();
      if (!entity) {
        if (current()) this.#missing.set(clientId, true, now);
        return undefined;
      }
      let client: RegisteredClient;
      try {
        client = deepFreeze(toRegisteredClient(entity, entity.credentials ?? [], this.cipher));
      } catch (cause) {
        // A secret that no longer decrypts means a wrong SECRET_ENCRYPTION_KEY: an outage.
        throw new DependencyUnavailableError('secret-cipher', { cause });
      }
      if (current()) this.#found.set(clientId, client, now);
      return client;
    } finally {
      if (current()) this.#inflight.delete(clientId);
    }
  }

  /**
   * Notes a successful authentication (SPEC S2.8 readiness, S3 `last_used_at`). Never throws and
   * never writes on the caller's path: values are kept in memory (latest wins) and written at
   * most once per client per `successWriteIntervalMs`, or by {@link flush}.
   */
  recordSuccess(event: ClientAuthenticationSuccess): void {
    try {
      if (this.#closed) return;
      const at = event.at.getTime();
      if (!Number.isFinite(at)) return;
      let pending = this.#pendingSuccess.get(event.clientId);
      if (!pending) {
        pending = { at, credentials: new Map() };
        this.#pendingSuccess.set(event.clientId, pending);
      }
      pending.at = Math.max(pending.at, at);
      if (event.audienceForm && (!pending.audience || pending.audience.at <= at)) {
        const typ = event.typ === undefined ? null : event.typ.slice(0, TYP_MAX);
        pending.audience = { at, form: event.audienceForm, typ };
      }
      if (event.credentialId) {
        pending.credentials.set(
          event.credentialId,
          Math.max(pending.credentials.get(event.credentialId) ?? at, at),
        );
      }
      if (!this.#successTimer) {
        this.#successTimer = setTimeout(() => {
          this.#successTimer = undefined;
          void this.#enqueue(() => this.#writeSuccesses());
        }, this.#options.successWriteIntervalMs);
        this.#successTimer.unref();
      }
    } catch {
      // Best-effort by contract.
    }
  }

  /**
   * Notes a failed authentication in the client's recent-failure record (SPEC S2.9, S3). Never
   * throws and never writes on the caller's path: failures are buffered (bounded) and written
   * in batches; each client keeps its newest `maxFailuresPerClient` rows. The assertion is never
   * part of the event and nothing beyond `detail` (truncated) is stored.
   */
  recordFailure(event: ClientAuthenticationFailure): void {
    try {
      if (this.#closed) return;
      if (this.#failureBuffer.length >= this.#options.maxBufferedFailures) {
        this.#droppedFailures++;
        return;
      }
      const row = new AuthFailureEntity();
      row.id = randomUUID();
      row.at = Number.isFinite(event.at.getTime()) ? event.at : new Date();
      row.clientId =
        event.clientId && event.clientId.length <= CLIENT_ID_MAX ? clean(event.clientId) : null;
      row.reason = event.reason;
      row.method =
        event.method && TOKEN_ENDPOINT_AUTH_METHODS.includes(event.method) ? event.method : null;
      row.requestId = event.requestId ? clean(event.requestId.slice(0, REQUEST_ID_MAX)) : null;
      row.detail = clean(String(event.detail).slice(0, DETAIL_MAX));
      this.#failureBuffer.push(row);
      if (!this.#failureTimer) {
        this.#failureTimer = setTimeout(() => {
          this.#failureTimer = undefined;
          void this.#enqueue(() => this.#writeFailures());
        }, this.#options.failureWriteIntervalMs);
        this.#failureTimer.unref();
      }
    } catch {
      // Best-effort by contract.
    }
  }

  /** How many failure records were dropped because the buffer was full. */
  get droppedFailures(): number {
    return this.#droppedFailures;
  }

  /** Writes everything recorded so far now. Resolves when done; never rejects. */
  async flush(): Promise<void> {
    this.#clearTimers();
    await this.#enqueue(async () => {
      await this.#writeSuccesses();
      await this.#writeFailures();
    });
  }

  /** Flushes, then stops accepting records and drops the cache. For shutdown. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.invalidateAll();
  }

  #clearTimers(): void {
    if (this.#successTimer) clearTimeout(this.#successTimer);
    if (this.#failureTimer) clearTimeout(this.#failureTimer);
    this.#successTimer = this.#failureTimer = undefined;
  }

  /** Background writes run one at a time. */
  #enqueue(write: () => Promise<void>): Promise<void> {
    this.#writes = this.#writes.then(write, write);
    return this.#writes;
  }

  async #writeSuccesses(): Promise<void> {
    if (this.#pendingSuccess.size === 0) return;
    const batch = [...this.#pendingSuccess];
    this.#pendingSuccess.clear();
    for (const [clientId, pending] of batch) {
      try {
        await serializeWrite(this.dataSource, () => this.#writeSuccess(clientId, pending));
      } catch (error) {
        this.#options.onBackgroundError?.(error, 'success');
        if (!this.#closed) this.#requeueSuccess(clientId, pending);
      }
    }
  }

  /** Puts back what a failed write held, unless newer values arrived meanwhile. */
  #requeueSuccess(clientId: string, failed: PendingSuccess): void {
    const newer = this.#pendingSuccess.get(clientId);
    if (!newer) {
      this.#pendingSuccess.set(clientId, failed);
    } else {
      newer.at = Math.max(newer.at, failed.at);
      if (failed.audience && (!newer.audience || newer.audience.at < failed.audience.at)) {
        newer.audience = failed.audience;
      }
      for (const [id, at] of failed.credentials) {
        newer.credentials.set(id, Math.max(newer.credentials.get(id) ?? at, at));
      }
    }
    if (!this.#successTimer) {
      this.#successTimer = setTimeout(() => {
        this.#successTimer = undefined;
        void this.#enqueue(() => this.#writeSuccesses());
      }, this.#options.successWriteIntervalMs);
      this.#successTimer.unref();
    }
  }

  async #writeSuccess(clientId: string, pending: PendingSuccess): Promise<void> {
    // Guarded so that an older value from a slower instance never overwrites a newer one.
    const update = this.dataSource
      .createQueryBuilder()
      .update(ClientEntity)
      .set({
        lastAuthenticatedAt: new Date(pending.at),
        ...(pending.audience && {
          lastAudienceForm: pending.audience.form,
          lastAssertionTyp: pending.audience.typ,
        }),
      })
      .where('client_id = :clientId', { clientId })
      .andWhere('(last_authenticated_at IS NULL OR last_authenticated_at <= :at)', {
        at: pending.at,
      });
    await update.execute();
    for (const [credentialId, at] of pending.credentials) {
      // A key or secret, or a federated credential (SPEC S9): ids are UUIDs, so at most one matches.
      for (const table of [ClientCredentialEntity, FederatedCredentialEntity]) {
        const result = await this.dataSource
          .createQueryBuilder()
          .update(table)
          .set({ lastUsedAt: new Date(at) })
          .where('id = :credentialId AND client_id = :clientId', { credentialId, clientId })
          .andWhere('(last_used_at IS NULL OR last_used_at < :at)', { at })
          .execute();
        if (result.affected) break;
      }
    }
  }

  async #writeFailures(): Promise<void> {
    if (this.#failureBuffer.length === 0) return;
    const batch = this.#failureBuffer;
    this.#failureBuffer = [];
    try {
      await serializeWrite(this.dataSource, async () => {
        for (let i = 0; i < batch.length; i += 100) {
          await this.dataSource
            .createQueryBuilder()
            .insert()
            .into(AuthFailureEntity)
            .values(batch.slice(i, i + 100))
            .updateEntity(false)
            .execute();
        }
        await this.#pruneFailures(batch);
      });
    } catch (error) {
      this.#options.onBackgroundError?.(error, 'failure');
    }
  }

  /** Keeps the newest `maxFailuresPerClient` rows of each client in the batch, and the global cap. */
  async #pruneFailures(batch: readonly AuthFailureEntity[]): Promise<void> {
    const counts = new Map<string | null, number>();
    for (const row of batch) counts.set(row.clientId, (counts.get(row.clientId) ?? 0) + 1);
    const busiest = [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_PRUNES_PER_BATCH)
      .map(([clientId]) => clientId);
    for (const clientId of busiest) await this.#pruneClientFailures(clientId);

    const now = this.#options.clock();
    if (now - this.#lastGlobalPrune >= GLOBAL_PRUNE_INTERVAL_MS) {
      this.#lastGlobalPrune = now;
      await this.#pruneOldest(
        this.dataSource.getRepository(AuthFailureEntity).createQueryBuilder('f'),
        this.#options.maxFailureRows,
        undefined,
      );
    }
  }

  async #pruneClientFailures(clientId: string | null): Promise<void> {
    const select = this.dataSource.getRepository(AuthFailureEntity).createQueryBuilder('f');
    if (clientId === null) select.where('f.client_id IS NULL');
    else select.where('f.client_id = :clientId', { clientId });
    await this.#pruneOldest(select, this.#options.maxFailuresPerClient, clientId);
  }

  /** Deletes the rows of `scope` older than its `keep`-th newest row. */
  async #pruneOldest(
    scope: SelectQueryBuilder<AuthFailureEntity>,
    keep: number,
    clientId: string | null | undefined,
  ): Promise<void> {
    const boundary = await scope
      .select(['f.at', 'f.id'])
      .orderBy('f.at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .offset(keep)
      .limit(1)
      .getOne();
    if (!boundary) return;
    const remove = this.dataSource
      .createQueryBuilder()
      .delete()
      .from(AuthFailureEntity)
      .where('(at < :at OR (at = :at AND id <= :id))', {
        at: boundary.at.getTime(),
        id: boundary.id,
      });
    if (clientId === null) remove.andWhere('client_id IS NULL');
    else if (clientId !== undefined) remove.andWhere('client_id = :clientId', { clientId });
    await remove.execute();
  }
}

/** PostgreSQL refuses NUL in text; a client-supplied value must never fail the batch. */
function clean(value: string): string {
  return value.replace(/\0/g, '\uFFFD');
}
