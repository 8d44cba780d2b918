/**
 * The reference server's database for a run: a fresh SQLite file (default) or a fresh
 * PostgreSQL database, migrated and seeded with one client per scenario through the built
 * library's `ClientRegistryService`, before the server starts.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';

/** Imports the library as `npm run build` emitted it (the reference server's copy). */
export async function importBuiltLibrary(entry) {
  try {
    return await import(pathToFileURL(entry).href);
  } catch (error) {
    throw new Error(`cannot load ${entry}: run \`npm run build\` first (${error.message})`, {
      cause: error,
    });
  }
}

async function adminQuery(adminUrl, sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates the server's database: `{ env, drop }` where `env` holds the server's `DATABASE_URL`
 * (PostgreSQL) and `drop()` removes a created PostgreSQL database.
 */
export async function createDatabase({ dataDir, adminUrl }) {
  if (!adminUrl) {
    return {
      type: 'better-sqlite3',
      path: join(dataDir, 'client-auth.sqlite'),
      env: {},
      drop: async () => {},
    };
  }
  const name = `client_auth_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    type: 'postgres',
    url: url.toString(),
    env: { DATABASE_URL: url.toString() },
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/**
 * Migrates the database and registers `clients` (`CreateClientInput`s); resolves the generated
 * `client_secret_jwt` secrets by client id (they are needed raw to sign HS256 assertions).
 */
export async function seedClients({ library, database, secretEncryptionKey, clients }) {
  const dataSource = new DataSource({
    ...(database.type === 'postgres'
      ? { type: 'postgres', url: database.url }
      : { type: 'better-sqlite3', database: database.path }),
    entities: library.CLIENT_AUTH_ENTITIES,
    migrations: library.migrationsFor(database.type),
    synchronize: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'all' });
    const registry = new library.ClientRegistryService(
      dataSource,
      new library.SecretCipher(secretEncryptionKey),
    );
    const secrets = {};
    for (const input of clients) {
      const created = await registry.createClient(input, 'benchmark');
      if (created.clientSecret !== undefined) secrets[input.clientId] = created.clientSecret;
    }
    return secrets;
  } finally {
    await dataSource.destroy();
  }
}
