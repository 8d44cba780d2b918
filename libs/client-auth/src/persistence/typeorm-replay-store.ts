import type { DataSource } from 'typeorm';
import { DependencyUnavailableError } from '../core/errors.js';
import type { ReplayStore } from '../core/replay/replay-store.interface.js';
import { UsedAssertionEntity } from './entities/used-assertion.entity.js';
import { isUniqueViolation } from './database-errors.js';
import { serializeWrite } from './serialized-transaction.js';

/** Longest key the `oauth_used_assertion.key` column holds (a hex SHA-256 digest). */
export const REPLAY_KEY_MAX_LENGTH = 64;

/** Options of {@link TypeOrmReplayStore}. */
export interface TypeOrmReplayStoreOptions {
  /** Called when a periodic purge fails (the next tick retries). Default: ignored. */
  readonly onPurgeError?: (error: unknown) => void;
}

/**
 * Single-use assertion ids in the database (SPEC S5): `consume` is one INSERT, and the primary
 * key makes it an atomic insert-if-absent across every instance sharing the database.
 *
 * @example
 * ```ts
 * const replayStore = new TypeOrmReplayStore(dataSource);
 * replayStore.startPurging(60_000);
 * if (!(await replayStore.consume(key, expiresAt))) throw replayed();
 * ```
 */
export class TypeOrmReplayStore implements ReplayStore {
  #insertSql?: string;

  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmReplayStoreOptions = {},
  ) {}

  /** The INSERT statement, built once the DataSource's metadata exists. */
  #insert(): string {
    if (this.#insertSql === undefined) {
      const table = this.dataSource.getMetadata(UsedAssertionEntity).tablePath;
      const values = this.dataSource.options.type === 'postgres' ? '$1, $2' : '?, ?';
      this.#insertSql = `INSERT INTO "${table}" ("key", "expires_at") VALUES (${values})`;
    }
    return this.#insertSql;
  }

  /**
   * Records `key` until `expiresAt`; `true` on first use, `false` on a replay (SPEC S5). A key
   * still present after its expiry (not purged yet) is a replay too, which is the safe answer.
   * Throws `DependencyUnavailableError('replay-store')` when the database fails.
   */
  async consume(key: string, expiresAt: Date): Promise<boolean> {
    if (key.length === 0 || key.length > REPLAY_KEY_MAX_LENGTH) {
      throw new RangeError(`replay key must be 1..${REPLAY_KEY_MAX_LENGTH} characters`);
    }
    try {
      // Never inside another flow's SQLite transaction: a rollback there must not undo this.
      // One parameterised INSERT, without the query builder's per-call metadata work (hot path).
      await serializeWrite(this.dataSource, () =>
        this.dataSource.query(this.#insert(), [key, expiresAt.getTime()]),
      );
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw new DependencyUnavailableError('replay-store', { cause: error });
    }
  }

  /** Deletes the entries that expired before `now` with one DELETE; resolves how many. */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    try {
      const result = await serializeWrite(this.dataSource, () =>
        this.dataSource
          .createQueryBuilder()
          .delete()
          .from(UsedAssertionEntity)
          .where('expires_at < :now', { now: now.getTime() })
          .execute(),
      );
      return result.affected ?? 0;
    } catch (error) {
      throw new DependencyUnavailableError('replay-store', { cause: error });
    }
  }

  /** Purges every `intervalMs` on an unref'd timer (it never keeps the process alive). */
  startPurging(intervalMs: number): void {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError('purge interval must be a positive number of milliseconds');
    }
    this.stop();
    this.#timer = setInterval(() => {
      this.purgeExpired().catch((error: unknown) => this.options.onPurgeError?.(error));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the periodic purge. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
