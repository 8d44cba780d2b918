import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  createTestDataSourceOptions,
  TEST_DATABASE_KINDS,
  type TestDataSourceOptions,
} from '../../../../../test/utils/database.js';
import { migrationsFor, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS } from './index.js';

const TABLES = [
  'oauth_audit_event',
  'oauth_auth_failure',
  'oauth_client',
  'oauth_client_credential',
  'oauth_federated_credential',
  'oauth_initial_access_token',
  'oauth_revoked_token',
  'oauth_server_signing_key',
  'oauth_used_assertion',
];

describe('migrationsFor', () => {
  it('returns the list of each dialect', () => {
    expect(migrationsFor('better-sqlite3')).toEqual(SQLITE_MIGRATIONS);
    expect(migrationsFor('postgres')).toEqual(POSTGRES_MIGRATIONS);
  });

  it('refuses an unsupported driver type', () => {
    expect(() => migrationsFor('mysql' as never)).toThrow('no client-auth migrations');
  });
});

describe.each(TEST_DATABASE_KINDS)('migrations on %s (SPEC S3)', (kind) => {
  let db: TestDataSourceOptions;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDataSourceOptions(kind);
    const type = db.options.type as 'better-sqlite3' | 'postgres';
    dataSource = new DataSource({ ...db.options, migrations: migrationsFor(type) });
    await dataSource.initialize();
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  async function tableNames(): Promise<string[]> {
    const queryRunner = dataSource.createQueryRunner();
    try {
      const tables = await queryRunner.getTables(TABLES);
      return tables.map((table) => table.name.replace(/^public\./, '')).sort();
    } finally {
      await queryRunner.release();
    }
  }

  it('starts from an empty database for which the entities need every table', async () => {
    expect(await tableNames()).toEqual([]);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.length).toBeGreaterThan(0);
  });

  it('creates exactly the schema of the entities', async () => {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    expect(applied.map((migration) => migration.name)).toEqual([
      'InitialSchema1732350000000',
      'InitialAccessTokens1732436400000',
      'RevokedTokens1732522800000',
      'FederatedCredentials1732609200000',
    ]);
    expect(await tableNames()).toEqual(TABLES);

    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('is not applied twice', async () => {
    expect(await dataSource.runMigrations()).toEqual([]);
  });

  it('reverts cleanly', async () => {
    await dataSource.undoLastMigration({ transaction: 'all' });
    expect(await tableNames()).toEqual(TABLES.filter((t) => t !== 'oauth_federated_credential'));
    await dataSource.undoLastMigration({ transaction: 'all' });
    expect(await tableNames()).toEqual(
      TABLES.filter((t) => t !== 'oauth_revoked_token' && t !== 'oauth_federated_credential'),
    );
    await dataSource.undoLastMigration({ transaction: 'all' });
    expect(await tableNames()).toEqual(
      TABLES.filter(
        (t) =>
          t !== 'oauth_revoked_token' &&
          t !== 'oauth_initial_access_token' &&
          t !== 'oauth_federated_credential',
      ),
    );
    await dataSource.undoLastMigration({ transaction: 'all' });
    expect(await tableNames()).toEqual([]);
    expect(await dataSource.showMigrations()).toBe(true);
  });

  it('can be applied again after the revert', async () => {
    await dataSource.runMigrations();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries).toEqual([]);
  });
});
