/**
 * Classification of driver errors shared by the TypeORM stores.
 */

/** The error the driver raised (TypeORM wraps it as `QueryFailedError.driverError`). */
function driverErrorOf(error: unknown): { code?: unknown; message?: unknown } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const inner = (error as { driverError?: unknown }).driverError;
  return (typeof inner === 'object' && inner !== null ? inner : error) as { code?: unknown };
}

/**
 * True for a unique or primary-key violation: PostgreSQL SQLSTATE 23505, SQLite
 * `SQLITE_CONSTRAINT_PRIMARYKEY` / `SQLITE_CONSTRAINT_UNIQUE`.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = driverErrorOf(error)?.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}
