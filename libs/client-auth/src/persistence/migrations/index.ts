import type { MigrationInterface } from 'typeorm';
import { PostgresInitialSchema1732350000000 } from './postgres/1732350000000-InitialSchema.js';
import { SqliteInitialSchema1732350000000 } from './sqlite/1732350000000-InitialSchema.js';
import { PostgresInitialAccessTokens1732436400000 } from './postgres/1732436400000-InitialAccessTokens.js';
import { SqliteInitialAccessTokens1732436400000 } from './sqlite/1732436400000-InitialAccessTokens.js';
import { PostgresRevokedTokens1732522800000 } from './postgres/1732522800000-RevokedTokens.js';
import { SqliteRevokedTokens1732522800000 } from './sqlite/1732522800000-RevokedTokens.js';
import { PostgresFederatedCredentials1732609200000 } from './postgres/1732609200000-FederatedCredentials.js';
import { SqliteFederatedCredentials1732609200000 } from './sqlite/1732609200000-FederatedCredentials.js';

export { PostgresInitialSchema1732350000000 } from './postgres/1732350000000-InitialSchema.js';
export { SqliteInitialSchema1732350000000 } from './sqlite/1732350000000-InitialSchema.js';
export { PostgresInitialAccessTokens1732436400000 } from './postgres/1732436400000-InitialAccessTokens.js';
export { SqliteInitialAccessTokens1732436400000 } from './sqlite/1732436400000-InitialAccessTokens.js';
export { PostgresRevokedTokens1732522800000 } from './postgres/1732522800000-RevokedTokens.js';
export { SqliteRevokedTokens1732522800000 } from './sqlite/1732522800000-RevokedTokens.js';
export { PostgresFederatedCredentials1732609200000 } from './postgres/1732609200000-FederatedCredentials.js';
export { SqliteFederatedCredentials1732609200000 } from './sqlite/1732609200000-FederatedCredentials.js';

/** A migration class, as TypeORM's `migrations` option takes it. */
export type MigrationClass = new () => MigrationInterface;

/** Registry migrations for SQLite (better-sqlite3), oldest first (SPEC S3). */
export const SQLITE_MIGRATIONS: MigrationClass[] = [
  SqliteInitialSchema1732350000000,
  SqliteInitialAccessTokens1732436400000,
  SqliteRevokedTokens1732522800000,
  SqliteFederatedCredentials1732609200000,
];

/** Registry migrations for PostgreSQL, oldest first (SPEC S3). */
export const POSTGRES_MIGRATIONS: MigrationClass[] = [
  PostgresInitialSchema1732350000000,
  PostgresInitialAccessTokens1732436400000,
  PostgresRevokedTokens1732522800000,
  PostgresFederatedCredentials1732609200000,
];

/**
 * The registry's migrations for a TypeORM driver type.
 *
 * @example
 * ```ts
 * new DataSource({ type: 'postgres', url, entities: CLIENT_AUTH_ENTITIES,
 *   migrations: migrationsFor('postgres'), migrationsRun: true, synchronize: false });
 * ```
 */
export function migrationsFor(type: 'better-sqlite3' | 'postgres'): MigrationClass[] {
  switch (type) {
    case 'better-sqlite3':
      return [...SQLITE_MIGRATIONS];
    case 'postgres':
      return [...POSTGRES_MIGRATIONS];
    default:
      throw new Error(`no client-auth migrations for database type "${String(type)}"`);
  }
}
