import { Column, type ColumnOptions, type ValueTransformer } from 'typeorm';

/**
 * Stores a `Date` as epoch milliseconds in a `bigint` column.
 *
 * Why not a native timestamp type: TypeORM has none that is timezone-safe on both supported
 * drivers. `type: Date` maps to `timestamp without time zone` on PostgreSQL, which node-postgres
 * writes in the process's local time (the offset is dropped by the server), so a value is
 * ambiguous across a DST change and between instances in different time zones; `timestamptz`
 * is refused by the SQLite driver. Epoch milliseconds are exact, portable and index well
 * (expiry purges, "newest N failures").
 */
export const epochMillisTransformer: ValueTransformer = {
  to(value: Date | null | undefined): number | null | undefined {
    if (value === null || value === undefined) return value;
    const ms = value.getTime();
    if (!Number.isFinite(ms)) throw new TypeError('invalid Date cannot be stored');
    return ms;
  },
  from(value: string | number | null | undefined): Date | null | undefined {
    if (value === null || value === undefined) return value;
    // node-postgres returns int8 as a string; better-sqlite3 returns a number.
    return new Date(typeof value === 'number' ? value : Number(value));
  },
};

/** A `Date` column stored as epoch milliseconds (`bigint`); see {@link epochMillisTransformer}. */
export function TimestampColumn(
  name: string,
  options: Pick<ColumnOptions, 'nullable'> = {},
): PropertyDecorator {
  return Column({
    name,
    type: 'bigint',
    nullable: options.nullable ?? false,
    transformer: epochMillisTransformer,
  });
}
