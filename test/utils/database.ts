/**
 * Test databases: a fresh, throw-away database per test run, on SQLite (always) and PostgreSQL
 * (when `TEST_DATABASE_URL` names an admin connection, e.g.
 * `postgres://postgres:postgres@127.0.0.1:5432/postgres`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { CLIENT_AUTH_ENTITIES } from '../../libs/client-auth/src/persistence/entities/index.js';
import { migrationsFor } from '../../libs/client-auth/src/persistence/migrations/index.js';

/** A dialect the tests can run on. */
export type TestDatabaseKind = 'sqlite' | 'postgres';

/** The admin connection for PostgreSQL tests, or undefined when PostgreSQL tests are skipped. */
export const TEST_DATABASE_URL: string | undefined = process.env.TEST_DATABASE_URL || undefined;

/** The dialects available in this run: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set. */
export const TEST_DATABASE_KINDS: readonly TestDatabaseKind[] = TEST_DATABASE_URL
  ? ['sqlite', 'postgres']
  : ['sqlite'];

/** A fresh, empty database of one dialect. */
export interface CreatedTestDatabase {
  readonly kind: TestDatabaseKind;
  /** `postgres://…` connection URL (PostgreSQL); undefined for SQLite. */
  readonly url?: string;
  /** Database file path (SQLite, inside a new temp directory); undefined for PostgreSQL. */
  readonly sqlitePath?: string;
  /** Drops the database (PostgreSQL) or deletes its temp directory (SQLite). Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh empty database: a SQLite file under a new temp directory, or a PostgreSQL
 * database `client_auth_test_<random>` created through the `TEST_DATABASE_URL` admin
 * connection. Call `drop()` when done.
 */
export async function createTestDatabase(kind: TestDatabaseKind): Promise<CreatedTestDatabase> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'client-auth-test-'));
    return {
      kind,
      sqlitePath: join(dir, 'registry.sqlite'),
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const name = `client_auth_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** DataSource options of a fresh database plus the function that removes it. */
export interface TestDataSourceOptions {
  readonly kind: TestDatabaseKind;
  /** DataSource options with the registry's entities and no migrations; `synchronize: false`. */
  readonly options: DataSourceOptions;
  /** Drops the database (PostgreSQL) or deletes its directory (SQLite). Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh empty database ({@link createTestDatabase}) and returns TypeORM DataSource
 * options for it, with the registry's entities and `synchronize: false`.
 */
export async function createTestDataSourceOptions(
  kind: TestDatabaseKind,
  extra: Partial<DataSourceOptions> = {},
): Promise<TestDataSourceOptions> {
  const database = await createTestDatabase(kind);
  const connection =
    kind === 'sqlite'
      ? { type: 'better-sqlite3', database: database.sqlitePath }
      : { type: 'postgres', url: database.url };
  return {
    kind,
    options: {
      ...connection,
      entities: CLIENT_AUTH_ENTITIES,
      synchronize: false,
      ...extra,
    } as DataSourceOptions,
    drop: () => database.drop(),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** What {@link withTestDatabase} hands to the tests of a `describe` block. */
export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  /** The initialized DataSource (available inside tests and `beforeAll`s declared after). */
  readonly dataSource: DataSource;
  /** The options it was built from (to open a second DataSource on the same database). */
  readonly options: DataSourceOptions;
}

/** Options of {@link withTestDatabase}. */
export interface WithTestDatabaseOptions {
  /** Run the dialect's migrations after connecting. Default true. */
  readonly migrate?: boolean;
  /** Extra DataSource options (e.g. `extra: { max: 20 }` for a larger pg pool). */
  readonly dataSource?: Partial<DataSourceOptions>;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that create a fresh database of `kind`, connect a
 * DataSource (migrated by default) and drop everything at the end.
 *
 * @example
 * ```ts
 * describe.each(TEST_DATABASE_KINDS)('on %s', (kind) => {
 *   const db = withTestDatabase(kind);
 *   it('works', async () => { await db.dataSource.query('SELECT 1'); });
 * });
 * ```
 */
export function withTestDatabase(
  kind: TestDatabaseKind,
  options: WithTestDatabaseOptions = {},
): TestDatabase {
  let created: TestDataSourceOptions | undefined;
  let dataSource: DataSource | undefined;
  beforeAll(async () => {
    created = await createTestDataSourceOptions(kind, options.dataSource);
    const type = created.options.type as 'better-sqlite3' | 'postgres';
    dataSource = new DataSource({ ...created.options, migrations: migrationsFor(type) });
    await dataSource.initialize();
    if (options.migrate ?? true) await dataSource.runMigrations({ transaction: 'all' });
  }, 30_000);
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await created?.drop();
  }, 30_000);
  return {
    kind,
    get dataSource(): DataSource {
      if (!dataSource) throw new Error('test database is not ready (use it inside a test)');
      return dataSource;
    },
    get options(): DataSourceOptions {
      if (!created) throw new Error('test database is not ready (use it inside a test)');
      return created.options;
    },
  };
}
