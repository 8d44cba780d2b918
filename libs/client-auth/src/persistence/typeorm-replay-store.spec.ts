import { describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { DependencyUnavailableError } from '../core/errors.js';
import {
  createTestDataSourceOptions,
  TEST_DATABASE_KINDS,
  withTestDatabase,
} from '../../../../test/utils/database.js';
import { CLIENT_AUTH_ENTITIES } from './entities/index.js';
import { UsedAssertionEntity } from './entities/used-assertion.entity.js';
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
