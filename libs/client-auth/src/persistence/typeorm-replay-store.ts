import type { DataSource } from 'typeorm';
import { DependencyUnavailableError } from '../core/errors.js';
import type { ReplayStore } from '../core/replay/replay-store.interface.js';
import { UsedAssertionEntity } from './entities/used-assertion.entity.js';
import { isUniqueViolation } from './database-errors.js';
import { type ReplayBatchEntry, ReplayWriteBatch } from './replay-write-batch.js';
import { serializeWrite } from './serialized-transaction.js';

/** Longest key the `oauth_used_assertion.key` column holds (a hex SHA-256 digest). */
export const REPLAY_KEY_MAX_LENGTH = 64;

/** Options of {@link TypeOrmReplayStore}. */
export interface TypeOrmReplayStoreOptions {
  /** Called when a periodic purge fails (the next tick retries). Default: ignored. */
  readonly onPurgeError?: (error: unknown) => void;
  /**
   * Most consumes written in one transaction (better-sqlite3) or one statement (PostgreSQL).
   * Default 256.
   */
  readonly maxBatchSize?: number;
}

/** The part of a better-sqlite3 prepared statement the store uses. */
interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
}

/** The part of a better-sqlite3 `Database` the store uses. */
interface SqliteConnection {
  readonly inTransaction: boolean;
  prepare(source: string): SqliteStatement;
}

/** The statements of one better-sqlite3 connection, prepared once. */
interface SqliteStatements {
  readonly connection: SqliteConnection;
  readonly begin: SqliteStatement;
  readonly insert: SqliteStatement;
  readonly commit: SqliteStatement;
  readonly rollback: SqliteStatement;
}

/**
 * Single-use assertion ids in the database (SPEC S5); the primary key makes `consume` an atomic
 * insert-if-absent across every instance sharing the database.
 *
 * Group commit: the consumes of one event-loop turn (at most `maxBatchSize`) are written together
 * ({@link ReplayWriteBatch}) — on better-sqlite3 in one `BEGIN IMMEDIATE … COMMIT` of
 * `INSERT OR IGNORE`s on the raw connection, on PostgreSQL as one `INSERT … ON CONFLICT DO
 * NOTHING RETURNING` statement. Each caller is answered only after the commit; when it fails,
 * nothing of the batch is stored and every caller of the batch gets
 * `DependencyUnavailableError('replay-store')`. Other drivers write one INSERT per consume.
 *
 * @example
 * ```ts
 * const replayStore = new TypeOrmReplayStore(dataSource);
 * replayStore.startPurging(60_000);
 * if (!(await replayStore.consume(key, expiresAt))) throw replayed();
 * ```
 */
export class TypeOrmReplayStore implements ReplayStore {
  readonly #batch: ReplayWriteBatch;

  #table?: string;

  #insertSql?: string;

  #sqlite?: SqliteStatements;

  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmReplayStoreOptions = {},
  ) {
    this.#batch = new ReplayWriteBatch((entries) => this.#writeBatch(entries), {
      maxBatchSize: options.maxBatchSize,
    });
  }

  /** The table's quoted name, built once the DataSource's metadata exists. */
  #tableName(): string {
    this.#table ??= this.dataSource
      .getMetadata(UsedAssertionEntity)
      .tablePath.split('.')
      .map((part) => this.dataSource.driver.escape(part))
      .join('.');
    return this.#table;
  }

  /**
   * Records `key` until `expiresAt`; `true` on first use, `false` on a replay (SPEC S5). A key
   * still present after its expiry (not purged yet) is a replay too, which is the safe answer.
   * Throws `DependencyUnavailableError('replay-store')` when the database fails, and a
   * `RangeError` at once for a key of bad length or an invalid date.
   */
  async consume(key: string, expiresAt: Date): Promise<boolean> {
    if (key.length === 0 || key.length > REPLAY_KEY_MAX_LENGTH) {
      throw new RangeError(`replay key must be 1..${REPLAY_KEY_MAX_LENGTH} characters`);
    }
    if (!Number.isFinite(expiresAt.getTime())) {
      throw new RangeError('replay key expiry must be a valid Date');
    }
    const type = this.dataSource.options.type;
    if (type !== 'better-sqlite3' && type !== 'postgres') return this.#consumeOne(key, expiresAt);
    try {
      return await this.#batch.add(key, expiresAt);
    } catch (error) {
      throw new DependencyUnavailableError('replay-store', { cause: error });
    }
  }

  /** Writes one batch with the DataSource's dialect. */
  #writeBatch(entries: readonly ReplayBatchEntry[]): Promise<readonly boolean[]> {
    return this.dataSource.options.type === 'postgres'
      ? this.#writePostgres(entries)
      : // Never inside another flow's SQLite transaction: a rollback there must not undo this.
        serializeWrite(this.dataSource, async () => this.#writeSqlite(entries));
  }

  /**
   * One transaction on the raw better-sqlite3 connection, synchronous from BEGIN to COMMIT (no
   * other work of this process can interleave). `INSERT OR IGNORE` changes one row exactly when
   * the key is new, so an in-batch duplicate answers `false` after its first occurrence.
   */
  #writeSqlite(entries: readonly ReplayBatchEntry[]): boolean[] {
    const { connection, begin, insert, commit, rollback } = this.#sqliteStatements();
    // BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout); if it
    // fails, nothing was started here and nothing must be rolled back.
    begin.run();
    try {
      const answers = entries.map(
        (entry) => insert.run(entry.key, entry.expiresAt.getTime()).changes === 1,
      );
      commit.run();
      return answers;
    } catch (error) {
      // Some errors (disk full, I/O) already rolled the transaction back.
      if (connection.inTransaction) {
        try {
          rollback.run();
        } catch {
          // The original error is the one to report.
        }
      }
      throw error;
    }
  }

  /** The statements of the driver's current connection (prepared again after a reconnect). */
  #sqliteStatements(): SqliteStatements {
    const connection = (this.dataSource.driver as unknown as { databaseConnection?: unknown })
      .databaseConnection as SqliteConnection | undefined;
    if (!connection) throw new Error('the better-sqlite3 DataSource is not connected');
    if (this.#sqlite?.connection !== connection) {
      this.#sqlite = {
        connection,
        begin: connection.prepare('BEGIN IMMEDIATE'),
        insert: connection.prepare(
          `INSERT OR IGNORE INTO ${this.#tableName()} ("key", "expires_at") VALUES (?, ?)`,
        ),
        commit: connection.prepare('COMMIT'),
        rollback: connection.prepare('ROLLBACK'),
      };
    }
    return this.#sqlite;
  }

  /**
   * One statement (atomic on its own) for the whole batch. A key repeated in the batch is sent
   * once, and only its first occurrence can win. Keys go in sorted order so that concurrent
   * batches of several instances lock shared keys in the same order and cannot deadlock.
   */
  async #writePostgres(entries: readonly ReplayBatchEntry[]): Promise<readonly boolean[]> {
    const first = new Map<string, number>();
    entries.forEach((entry, i) => {
      if (!first.has(entry.key)) first.set(entry.key, i);
    });
    const keys = [...first.keys()].sort();
    const expiries = keys.map((key) => entries[first.get(key)!]!.expiresAt.getTime());
    const rows: { key: string }[] = await this.dataSource.query(
      `INSERT INTO ${this.#tableName()} ("key", "expires_at")
       SELECT * FROM unnest($1::varchar[], $2::bigint[])
       ON CONFLICT ("key") DO NOTHING RETURNING "key"`,
      [keys, expiries],
    );
    const inserted = new Set(rows.map((row) => row.key));
    return entries.map((entry, i) => first.get(entry.key) === i && inserted.has(entry.key));
  }

  /** Any other driver: one parameterised INSERT per consume; the primary key refuses a replay. */
  async #consumeOne(key: string, expiresAt: Date): Promise<boolean> {
    if (this.#insertSql === undefined) {
      const { driver } = this.dataSource;
      const columns = `${driver.escape('key')}, ${driver.escape('expires_at')}`;
      const values = `${driver.createParameter('key', 0)}, ${driver.createParameter('expires_at', 1)}`;
      this.#insertSql = `INSERT INTO ${this.#tableName()} (${columns}) VALUES (${values})`;
    }
    try {
      await serializeWrite(this.dataSource, () =>
        this.dataSource.query(this.#insertSql!, [key, expiresAt.getTime()]),
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
