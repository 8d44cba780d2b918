import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { DataSource, In } from 'typeorm';
import { DependencyUnavailableError } from '../core/errors.js';
import {
  createTestDataSourceOptions,
  TEST_DATABASE_KINDS,
  type TestDatabaseKind,
  withTestDatabase,
} from '../../../../test/utils/database.js';
import { CLIENT_AUTH_ENTITIES } from './entities/index.js';
import { UsedAssertionEntity } from './entities/used-assertion.entity.js';
import { migrationsFor } from './migrations/index.js';
import { runTransaction } from './serialized-transaction.js';
import { TypeOrmReplayStore } from './typeorm-replay-store.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe.each(TEST_DATABASE_KINDS)('TypeOrmReplayStore on %s (SPEC S5)', (kind) => {
  // A pool larger than the number of concurrent calls, so PostgreSQL really runs them at once.
  const db = withTestDatabase(kind, { dataSource: { extra: { max: 25 } } });

  it('accepts a key once and refuses it afterwards', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    expect(await store.consume('k-once', at(60))).toBe(true);
    expect(await store.consume('k-once', at(60))).toBe(false);
    expect(await store.consume('k-other', at(60))).toBe(true);
  });

  it('lets exactly one of 50 concurrent consumes of one key win', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.consume('k-race', at(60))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(results.filter((won) => !won)).toHaveLength(49);
  });

  it.each([
    ['the default batch cap', undefined],
    ['a batch cap of 7', 7],
  ])('accepts 200 concurrent consumes of distinct keys with %s', async (_label, maxBatchSize) => {
    const store = new TypeOrmReplayStore(db.dataSource, { maxBatchSize });
    const keys = Array.from({ length: 200 }, (_, i) => `d${maxBatchSize ?? 0}-${i}`);
    const results = await Promise.all(keys.map((key) => store.consume(key, at(60))));
    expect(results).toEqual(keys.map(() => true));
    const rows = await db.dataSource.getRepository(UsedAssertionEntity).findBy({ key: In(keys) });
    expect(rows.map((row) => row.key).sort()).toEqual([...keys].sort());
    expect(rows.every((row) => row.expiresAt.getTime() === at(60).getTime())).toBe(true);
  });

  it('answers each caller of a mixed batch for its own key', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    expect(await store.consume('m-stored', at(60))).toBe(true);
    const results = await Promise.all([
      store.consume('m-new-1', at(60)),
      store.consume('m-stored', at(60)),
      store.consume('m-dup', at(60)),
      store.consume('m-new-2', at(60)),
      store.consume('m-dup', at(120)),
      store.consume('m-stored', at(60)),
      store.consume('m-dup', at(180)),
    ]);
    expect(results).toEqual([true, false, true, true, false, false, false]);
    // The first occurrence of an in-batch duplicate is the one stored.
    const dup = await db.dataSource.getRepository(UsedAssertionEntity).findOneBy({ key: 'm-dup' });
    expect(dup?.expiresAt).toEqual(at(60));
  });

  it('fails every caller of a failed batch, stores none of its keys, and recovers', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    await installPoisonTrigger(db.dataSource, kind);
    let results: PromiseSettledResult<boolean>[];
    try {
      // The failing key sits between two new ones: the first was written before the failure.
      results = await Promise.allSettled([
        store.consume('f-before', at(60)),
        store.consume('poison', at(60)),
        store.consume('f-after', at(60)),
      ]);
    } finally {
      await dropPoisonTrigger(db.dataSource, kind);
    }
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(DependencyUnavailableError);
      expect(reason).toMatchObject({ dependency: 'replay-store' });
    }
    expect(await countKey(db.dataSource, 'f-before')).toBe(0);
    expect(await countKey(db.dataSource, 'f-after')).toBe(0);
    expect(
      await Promise.all([
        store.consume('f-before', at(60)),
        store.consume('poison', at(60)),
        store.consume('f-after', at(60)),
      ]),
    ).toEqual([true, true, true]);
  });

  it('keeps a key consumed while another flow’s transaction is open and rolled back', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inTransaction = new Promise<void>((resolve) => (started = resolve));
    const transaction = runTransaction(db.dataSource, async (manager) => {
      await manager.insert(UsedAssertionEntity, { key: 'tx-row', expiresAt: at(60) });
      started();
      await gate;
      throw new Error('the other flow fails');
    });
    await inTransaction;
    const consumed = store.consume('tx-key', at(60));
    await nextTurn();
    release();
    await expect(transaction).rejects.toThrow('the other flow fails');
    expect(await consumed).toBe(true);
    expect(await countKey(db.dataSource, 'tx-key')).toBe(1);
    expect(await countKey(db.dataSource, 'tx-row')).toBe(0);
    expect(await store.consume('tx-key', at(60))).toBe(false);
  });

  it('lets exactly one instance win each of many keys consumed in opposite orders', async () => {
    const second = new DataSource({ ...db.options, extra: { max: 25 } });
    await second.initialize();
    try {
      const stores = [new TypeOrmReplayStore(db.dataSource), new TypeOrmReplayStore(second)];
      // Batches of both instances overlap on shared keys, taken in opposite orders: the store
      // must write them in one consistent order, or PostgreSQL detects a deadlock.
      for (let round = 0; round < 3; round++) {
        const keys = Array.from({ length: 2000 }, (_, i) => `o${round}-${i}`);
        const [forward, backward] = await Promise.all([
          Promise.all(keys.map((key) => stores[0]!.consume(key, at(60)))),
          Promise.all([...keys].reverse().map((key) => stores[1]!.consume(key, at(60)))),
        ]);
        backward.reverse();
        const winners = keys.map((_, i) => Number(forward[i]) + Number(backward[i]));
        expect(winners).toEqual(keys.map(() => 1));
      }
    } finally {
      await second.destroy();
    }
  });

  it('lets exactly one win across two instances sharing the database', async () => {
    const second = new DataSource({ ...db.options, extra: { max: 25 } });
    await second.initialize();
    try {
      const stores = [new TypeOrmReplayStore(db.dataSource), new TypeOrmReplayStore(second)];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => stores[i % 2]!.consume('k-two-instances', at(60))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await second.destroy();
    }
  });

  it('still refuses a key that expired but was not purged yet', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    expect(await store.consume('k-expired', at(-120))).toBe(true);
    expect(await store.consume('k-expired', at(60))).toBe(false);
  });

  it('purges only the expired keys, with their expiry stored to the millisecond', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    await db.dataSource.getRepository(UsedAssertionEntity).clear();
    await store.consume('p-old', at(-10));
    await store.consume('p-edge', new Date(NOW.getTime() - 1));
    await store.consume('p-now', NOW);
    await store.consume('p-new', at(10));

    expect(await store.purgeExpired(NOW)).toBe(2);
    const left = await db.dataSource
      .getRepository(UsedAssertionEntity)
      .find({ order: { key: 'ASC' } });
    expect(left).toEqual([
      { key: 'p-new', expiresAt: at(10) },
      { key: 'p-now', expiresAt: NOW },
    ]);
    expect(await store.purgeExpired(NOW)).toBe(0);
    // A purged key is usable again (its assertion has expired by then anyway).
    expect(await store.consume('p-old', at(60))).toBe(true);
  });

  it('purges periodically once started, and stops', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    await store.consume('t-expired', new Date(Date.now() - 1000));
    store.startPurging(10);
    try {
      await waitFor(async () => (await countKey(db.dataSource, 't-expired')) === 0);
    } finally {
      store.stop();
    }
    await store.consume('t-expired-2', new Date(Date.now() - 1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await countKey(db.dataSource, 't-expired-2')).toBe(1);
  });

  it.each([[''], ['x'.repeat(65)]])('refuses a key of bad length %#', async (key) => {
    const store = new TypeOrmReplayStore(db.dataSource);
    await expect(store.consume(key, at(60))).rejects.toThrow(RangeError);
  });

  it('refuses an invalid expiry without failing the batch it would have joined', async () => {
    const store = new TypeOrmReplayStore(db.dataSource);
    const results = await Promise.allSettled([
      store.consume('v-ok', at(60)),
      store.consume('v-bad-date', new Date(Number.NaN)),
      store.consume('x'.repeat(65), at(60)),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: true });
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
    expect(await countKey(db.dataSource, 'v-bad-date')).toBe(0);
  });

  it('throws DependencyUnavailableError when the database is gone', async () => {
    const created = await createTestDataSourceOptions(kind);
    const closed = new DataSource(created.options);
    await closed.initialize();
    await closed.destroy();
    await created.drop();
    const store = new TypeOrmReplayStore(closed);
    await expect(store.consume('k-down', at(60))).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    await expect(store.purgeExpired(NOW)).rejects.toMatchObject({ dependency: 'replay-store' });
  });
});

describe('TypeOrmReplayStore on sqlite: failures of the raw connection (SPEC S5)', () => {
  async function openStore(timeoutMs = 5000) {
    const created = await createTestDataSourceOptions('sqlite', { timeout: timeoutMs } as object);
    const dataSource = new DataSource({
      ...created.options,
      migrations: migrationsFor('better-sqlite3'),
    });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'all' });
    const path = (created.options as { database: string }).database;
    const close = async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await created.drop();
    };
    return { dataSource, store: new TypeOrmReplayStore(dataSource), path, close };
  }

  it('fails the batch while another process holds the write lock, then works', async () => {
    const { dataSource, store, path, close } = await openStore(50);
    const other = new Database(path, { timeout: 50 });
    try {
      other.exec('BEGIN IMMEDIATE');
      const results = await Promise.allSettled(
        ['l-1', 'l-2', 'l-3'].map((key) => store.consume(key, at(60))),
      );
      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
      const reason = (results[0] as PromiseRejectedResult).reason as DependencyUnavailableError;
      expect(reason).toBeInstanceOf(DependencyUnavailableError);
      expect(reason.cause).toMatchObject({ code: 'SQLITE_BUSY' });
      other.exec('ROLLBACK');
      expect(await countKey(dataSource, 'l-1')).toBe(0);
      expect(
        await Promise.all(['l-1', 'l-2', 'l-1'].map((key) => store.consume(key, at(60)))),
      ).toEqual([true, true, false]);
      // What the store committed is visible to the other connection at once.
      expect(other.prepare('SELECT count(*) AS n FROM "oauth_used_assertion"').get()).toEqual({
        n: 2,
      });
    } finally {
      other.close();
      await close();
    }
  });

  it('fails the batch on a closed connection and works again after reconnecting', async () => {
    const { dataSource, store, close } = await openStore();
    try {
      expect(await store.consume('c-first', at(60))).toBe(true);
      (
        dataSource.driver as unknown as { databaseConnection: Database.Database }
      ).databaseConnection.close();
      const results = await Promise.allSettled(
        ['c-1', 'c-2'].map((key) => store.consume(key, at(60))),
      );
      for (const result of results) {
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(DependencyUnavailableError);
      }
      await dataSource.destroy();
      await dataSource.initialize();
      // The statements are prepared again on the new connection.
      expect(
        await Promise.all(['c-first', 'c-1', 'c-2'].map((key) => store.consume(key, at(60)))),
      ).toEqual([false, true, true]);
    } finally {
      await close();
    }
  });

  it('lets exactly one of two DataSources on one file win a key, batch after batch', async () => {
    const { dataSource, store, close } = await openStore();
    const second = new DataSource({ ...dataSource.options, migrations: [] });
    await second.initialize();
    try {
      const other = new TypeOrmReplayStore(second);
      for (let round = 0; round < 20; round++) {
        const key = `r-${round}`;
        const results = await Promise.all([
          store.consume(key, at(60)),
          other.consume(key, at(60)),
          other.consume(key, at(60)),
          store.consume(key, at(60)),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    } finally {
      await second.destroy();
      await close();
    }
  });
});

describe('TypeOrmReplayStore against an unreachable server', () => {
  it('throws DependencyUnavailableError, not a replay verdict', async () => {
    const unreachable = new DataSource({
      type: 'postgres',
      host: '127.0.0.1',
      port: 1,
      username: 'nobody',
      password: 'nothing',
      database: 'none',
      entities: CLIENT_AUTH_ENTITIES,
    });
    const store = new TypeOrmReplayStore(unreachable);
    const error = await store.consume('k-unreachable', at(60)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({ error: 'temporarily_unavailable', dependency: 'replay-store' });
  });
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A trigger that makes the database refuse to insert the key `poison` (fault injection). */
async function installPoisonTrigger(dataSource: DataSource, kind: TestDatabaseKind): Promise<void> {
  if (kind === 'sqlite') {
    await dataSource.query(
      `CREATE TRIGGER "test_poison" BEFORE INSERT ON "oauth_used_assertion"
       WHEN NEW."key" = 'poison' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    );
    return;
  }
  await dataSource.query(
    `CREATE FUNCTION "test_poison"() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF NEW."key" = 'poison' THEN RAISE EXCEPTION 'injected failure'; END IF;
       RETURN NEW;
     END $$`,
  );
  await dataSource.query(
    `CREATE TRIGGER "test_poison" BEFORE INSERT ON "oauth_used_assertion"
     FOR EACH ROW EXECUTE FUNCTION "test_poison"()`,
  );
}

async function dropPoisonTrigger(dataSource: DataSource, kind: TestDatabaseKind): Promise<void> {
  if (kind === 'sqlite') {
    await dataSource.query(`DROP TRIGGER "test_poison"`);
    return;
  }
  await dataSource.query(`DROP TRIGGER "test_poison" ON "oauth_used_assertion"`);
  await dataSource.query(`DROP FUNCTION "test_poison"()`);
}

async function countKey(dataSource: DataSource, key: string): Promise<number> {
  return dataSource.getRepository(UsedAssertionEntity).countBy({ key });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
