import { beforeEach, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../test/utils/database.js';
import { DependencyUnavailableError } from '../core/errors.js';
import { RevokedTokenEntity } from './entities/revoked-token.entity.js';
import { TypeOrmRevocationStore } from './typeorm-revocation-store.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe.each(TEST_DATABASE_KINDS)('TypeOrmRevocationStore on %s (RFC 7009, SPEC S4)', (kind) => {
  const db = withTestDatabase(kind, { dataSource: { extra: { max: 10 } } });
  const table = () => db.dataSource.getRepository(RevokedTokenEntity);

  beforeEach(async () => {
    await table().clear();
  });

  it('records a revoked jti with its client and expiry; other jtis are not revoked', async () => {
    const store = new TypeOrmRevocationStore(db.dataSource);
    const before = Date.now();
    await store.revoke('jti-1', at(300), 'billing');
    expect(await store.isRevoked('jti-1')).toBe(true);
    expect(await store.isRevoked('jti-2')).toBe(false);
    const row = await table().findOneByOrFail({ jti: 'jti-1' });
    expect(row.clientId).toBe('billing');
    expect(row.expiresAt).toEqual(at(300));
    expect(row.revokedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('revoking again, even concurrently, is idempotent (RFC 7009 §2.2)', async () => {
    const store = new TypeOrmRevocationStore(db.dataSource);
    await store.revoke('jti-twice', at(300), 'billing');
    await expect(store.revoke('jti-twice', at(300), 'billing')).resolves.toBeUndefined();
    await Promise.all(
      Array.from({ length: 10 }, () => store.revoke('jti-race', at(300), 'billing')),
    );
    expect(await table().countBy({ jti: 'jti-race' })).toBe(1);
    expect(await store.isRevoked('jti-race')).toBe(true);
  });

  it('a revocation holds for another instance and survives a reconnect', async () => {
    await new TypeOrmRevocationStore(db.dataSource).revoke('jti-shared', at(300), 'billing');
    const second = new DataSource(db.options);
    await second.initialize();
    try {
      expect(await new TypeOrmRevocationStore(second).isRevoked('jti-shared')).toBe(true);
      expect(await new TypeOrmRevocationStore(second).isRevoked('jti-other')).toBe(false);
    } finally {
      await second.destroy();
    }
    const reopened = new DataSource(db.options);
    await reopened.initialize();
    try {
      expect(await new TypeOrmRevocationStore(reopened).isRevoked('jti-shared')).toBe(true);
    } finally {
      await reopened.destroy();
    }
  });

  it('purgeExpired deletes only the entries whose token expired before now', async () => {
    const store = new TypeOrmRevocationStore(db.dataSource);
    await store.revoke('old', at(-60), 'c');
    await store.revoke('edge', NOW, 'c');
    await store.revoke('live', at(60), 'c');
    expect(await store.purgeExpired(NOW)).toBe(1);
    expect(await store.isRevoked('old')).toBe(false);
    expect(await store.isRevoked('edge')).toBe(true);
    expect(await store.isRevoked('live')).toBe(true);
    expect(await store.purgeExpired(at(61))).toBe(2);
    expect(await table().count()).toBe(0);
  });

  it('a database that is down answers DependencyUnavailableError (503), never "not revoked"', async () => {
    const closed = new TypeOrmRevocationStore(new DataSource(db.options));
    await expect(closed.isRevoked('jti-1')).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(closed.revoke('jti-1', at(60), 'c')).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    await expect(closed.purgeExpired(NOW)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
