import type { DataSource, EntityManager } from 'typeorm';

/** The pending transactions of each single-connection DataSource, chained. */
const queues = new WeakMap<DataSource, Promise<void>>();

/** SQLite drivers: TypeORM runs every query of the DataSource on one shared connection. */
function isSingleConnection(dataSource: DataSource): boolean {
  const type = dataSource.options.type;
  return type === 'better-sqlite3' || type === 'sqljs';
}

/**
 * Runs `work` in one transaction of `dataSource` (SPEC S10: a registry write is all-or-nothing).
 *
 * On SQLite TypeORM shares one connection, and a transaction started while another is open
 * becomes a SAVEPOINT inside it: concurrent writes would read each other's uncommitted rows and
 * roll back each other's work. There the transactions of one DataSource run one after another.
 * On PostgreSQL they run concurrently on pooled connections, ordered by row locks. `work` must
 * not call `runTransaction` again for the same DataSource (on SQLite it would wait for itself).
 *
 * @example
 * ```ts
 * await runTransaction(dataSource, async (manager) => {
 *   await manager.insert(ClientEntity, row);
 * });
 * ```
 */
export function runTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!isSingleConnection(dataSource)) return dataSource.transaction(work);
  return serializeWrite(dataSource, () => dataSource.transaction(work));
}

/**
 * Runs a write outside any transaction — on SQLite after the DataSource's pending transactions,
 * so it can never land inside (and be rolled back with) another flow's transaction. The replay
 * store depends on this: a consumed `jti` must not be undone by an unrelated registry rollback.
 * On PostgreSQL `write` runs at once.
 */
export function serializeWrite<T>(dataSource: DataSource, write: () => Promise<T>): Promise<T> {
  if (!isSingleConnection(dataSource)) return write();
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(write);
  queues.set(
    dataSource,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );
  return run;
}
