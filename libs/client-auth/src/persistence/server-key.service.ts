import { randomBytes, randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import { DependencyUnavailableError, OAuthError } from '../core/errors.js';
import type { ServerSigningKey } from '../core/tokens/access-token.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import {
  ServerSigningKeyEntity,
  type ServerSigningKeyStatus,
} from './entities/server-signing-key.entity.js';
import { signingKeyAad, type SecretCipher } from './secret-cipher.js';
import { runTransaction } from './serialized-transaction.js';

/** A loaded server key: private part for signing, public part for `jwks_uri`. */
export interface LoadedServerKey extends ServerSigningKey {
  readonly status: ServerSigningKeyStatus;
  readonly publicJwk: JWK;
  readonly createdAt: Date;
  /** For a retiring key: when it stops being published. */
  readonly notAfter?: Date;
}

/** Options of {@link ServerKeyService}. */
export interface ServerKeyServiceOptions {
  /**
   * Private JWKs from configuration (`SIGNING_KEYS`): the first signs, all are published, and
   * rotation through the API is refused (rotate by changing the configuration). Each needs
   * `kid` and `alg`.
   */
  readonly staticKeys?: readonly JWK[];
  /** Algorithm of generated keys. Default `ES256`. */
  readonly algorithm?: string;
  /**
   * How long a retired key stays published after a rotation, in seconds: at least the access
   * token lifetime plus the verifiers' cache time. Default 3600.
   */
  readonly retireAfterSeconds?: number;
  /** How often keys are re-read, so rotations by another instance are seen (ms). Default 60000; 0 disables. */
  readonly reloadIntervalMs?: number;
  readonly clock?: () => Date;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * The authorization server's signing keys (SPEC S4): several at once — `current` signs,
 * `next` is published ahead of its turn (so verifiers already hold it when it starts signing),
 * `retiring` stays published until tokens it signed have expired. Generated keys are stored
 * encrypted (AES-256-GCM) in `oauth_server_signing_key`, shared by every instance.
 *
 * @example
 * ```ts
 * const keys = new ServerKeyService(dataSource, cipher, { retireAfterSeconds: 900 });
 * await keys.load();
 * const { token } = await signAccessToken(keys.signingKey(), content);
 * await keys.rotate('admin'); // next → current, current → retiring, new next
 * ```
 */
export class ServerKeyService {
  readonly #clock: () => Date;
  #keys: LoadedServerKey[] = [];
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    private readonly options: ServerKeyServiceOptions = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Loads (generating on first use) and starts the periodic reload. */
  async start(): Promise<void> {
    await this.load();
    const interval = this.options.reloadIntervalMs ?? 60_000;
    if (interval > 0 && !this.options.staticKeys) {
      this.#timer = setInterval(() => {
        this.load().catch(() => {
          // Keep the keys already loaded; the next tick retries.
        });
      }, interval);
      this.#timer.unref();
    }
  }

  /** Stops the periodic reload. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the keys, generating a current and a next key when missing. */
  async load(): Promise<void> {
    if (this.options.staticKeys) {
      this.#keys = await Promise.all(
        this.options.staticKeys.map((jwk, index) =>
          importPrivate(jwk, index === 0 ? 'current' : 'next', this.#clock(), undefined),
        ),
      );
      if (this.#keys.length === 0) throw new Error('staticKeys must hold at least one key');
      return;
    }
    try {
      let rows = await this.#rows();
      if (
        !rows.some((row) => row.status === 'current') ||
        !rows.some((row) => row.status === 'next')
      ) {
        await runTransaction(this.dataSource, async (manager) => {
          const locked = await this.#lockedRows(manager);
          if (!locked.some((row) => row.status === 'current')) {
            await this.#insertGenerated(manager, 'current');
          }
          if (!locked.some((row) => row.status === 'next')) {
            await this.#insertGenerated(manager, 'next');
          }
        });
        rows = await this.#rows();
      }
      this.#keys = await this.#import(rows);
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw new DependencyUnavailableError('server-keys', { cause: error });
    }
  }

  /** The key new tokens are signed with (the oldest `current`, should two instances race). */
  signingKey(): LoadedServerKey {
    const key = this.#keys.find((candidate) => candidate.status === 'current');
    if (!key) throw new DependencyUnavailableError('server-keys');
    return key;
  }

  /** Every published key, current first. */
  publishedKeys(): readonly LoadedServerKey[] {
    const now = this.#clock();
    return this.#keys.filter((key) => key.notAfter === undefined || key.notAfter > now);
  }

  /** The public JWK Set for `jwks_uri` (RFC 7517 §5). */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.publishedKeys().map((key) => key.publicJwk) };
  }

  /**
   * Rotates without downtime: `next` becomes `current`, `current` becomes `retiring` (published
   * for `retireAfterSeconds` more), a new `next` is generated, and expired retiring keys are
   * deleted. One transaction with an audit event. Refused for configured keys.
   */
  async rotate(actor = 'system'): Promise<readonly LoadedServerKey[]> {
    if (this.options.staticKeys) {
      throw new OAuthError(
        'conflict',
        'keys come from configuration (SIGNING_KEYS); rotate them there',
      );
    }
    const now = this.#clock();
    const retireAt = new Date(now.getTime() + (this.options.retireAfterSeconds ?? 3600) * 1000);
    try {
      await runTransaction(this.dataSource, async (manager) => {
        const rows = await this.#lockedRows(manager);
        const expired = rows.filter(
          (row) => row.status === 'retiring' && row.notAfter !== null && row.notAfter <= now,
        );
        for (const row of expired) await manager.delete(ServerSigningKeyEntity, { kid: row.kid });
        const current = rows.filter((row) => row.status === 'current');
        const next = rows.filter((row) => row.status === 'next');
        for (const row of current) {
          await manager.update(
            ServerSigningKeyEntity,
            { kid: row.kid },
            { status: 'retiring', notAfter: retireAt },
          );
        }
        if (next.length > 0) {
          await manager.update(
            ServerSigningKeyEntity,
            { kid: next[0]!.kid },
            { status: 'current' },
          );
        } else {
          await this.#insertGenerated(manager, 'current');
        }
        const fresh = await this.#insertGenerated(manager, 'next');
        const event = Object.assign(new AuditEventEntity(), {
          id: randomUUID(),
          at: now,
          actor: actor.slice(0, 255),
          action: 'server_key.rotated',
          clientId: null,
          details: {
            current: next[0]?.kid ?? null,
            retiring: current.map((row) => row.kid),
            next: fresh,
            deleted: expired.map((row) => row.kid),
          },
        });
        await manager.getRepository(AuditEventEntity).insert(event as never);
      });
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw new DependencyUnavailableError('server-keys', { cause: error });
    }
    await this.load();
    return this.#keys;
  }

  async #rows(): Promise<ServerSigningKeyEntity[]> {
    return this.dataSource
      .getRepository(ServerSigningKeyEntity)
      .find({ order: { createdAt: 'ASC', kid: 'ASC' } });
  }

  async #lockedRows(manager: EntityManager): Promise<ServerSigningKeyEntity[]> {
    const query = manager
      .createQueryBuilder(ServerSigningKeyEntity, 'k')
      .orderBy('k.created_at', 'ASC')
      .addOrderBy('k.kid', 'ASC');
    if (manager.connection.options.type === 'postgres') {
      // Serialise generation and rotation across instances.
      await manager.query('LOCK TABLE "oauth_server_signing_key" IN SHARE ROW EXCLUSIVE MODE');
    }
    return query.getMany();
  }

  async #insertGenerated(manager: EntityManager, status: ServerSigningKeyStatus): Promise<string> {
    const alg = this.options.algorithm ?? 'ES256';
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomBytes(12).toString('base64url');
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
    const row = Object.assign(new ServerSigningKeyEntity(), {
      kid,
      alg,
      status,
      createdAt: this.#clock(),
      notAfter: null,
      privateJwkCiphertext: this.cipher.encrypt(JSON.stringify(privateJwk), signingKeyAad(kid)),
      publicJwk: publicPart(privateJwk),
    });
    await manager.getRepository(ServerSigningKeyEntity).insert(row as never);
    return kid;
  }

  async #import(rows: readonly ServerSigningKeyEntity[]): Promise<LoadedServerKey[]> {
    const order: Record<ServerSigningKeyStatus, number> = { current: 0, next: 1, retiring: 2 };
    const sorted = [...rows].sort((a, b) => order[a.status] - order[b.status]);
    return Promise.all(
      sorted.map((row) =>
        importPrivate(
          JSON.parse(this.cipher.decrypt(row.privateJwkCiphertext, signingKeyAad(row.kid))) as JWK,
          row.status,
          row.createdAt,
          row.notAfter ?? undefined,
        ),
      ),
    );
  }
}

function publicPart(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk, use: 'sig' };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  return copy as JWK;
}

async function importPrivate(
  jwk: JWK,
  status: ServerSigningKeyStatus,
  createdAt: Date,
  notAfter: Date | undefined,
): Promise<LoadedServerKey> {
  if (!jwk.alg || !jwk.kid) throw new Error('server signing keys need "alg" and "kid"');
  const privateKey = (await importJWK(jwk, jwk.alg)) as CryptoKey;
  return {
    kid: jwk.kid,
    alg: jwk.alg,
    privateKey,
    publicJwk: publicPart(jwk),
    status,
    createdAt,
    ...(notAfter && { notAfter }),
  };
}
