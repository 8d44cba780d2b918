import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/**
 * The result of one dependency check, in the shape `@nestjs/terminus`' `HealthCheckService`
 * expects from an indicator (`{[key]: {status, …}}`), so it can be passed to `check()` directly.
 */
export type DependencyHealth<Key extends string> = Record<
  Key,
  { status: 'up' | 'down'; responseTimeMs: number; message?: string }
>;

/** Something answering a Redis `PING` (an ioredis or node-redis client). */
export interface RedisPingable {
  ping(): Promise<string>;
}

/** Default time a dependency check may take, in ms. */
export const HEALTH_CHECK_TIMEOUT_MS = 1000;

/**
 * Runs `ping` with a deadline and reports `up` or `down`. The `down` message is the error code
 * or class (`ECONNREFUSED`, `timed out after 1000 ms`), never the driver's message, which may
 * hold a host name, a user name or a query.
 */
export async function pingDependency<Key extends string>(
  key: Key,
  ping: () => Promise<unknown>,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<DependencyHealth<Key>> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new HealthTimeout(timeoutMs)), timeoutMs);
      }),
    ]);
    return {
      [key]: { status: 'up', responseTimeMs: Date.now() - started },
    } as DependencyHealth<Key>;
  } catch (error) {
    return {
      [key]: { status: 'down', responseTimeMs: Date.now() - started, message: describe(error) },
    } as DependencyHealth<Key>;
  } finally {
    clearTimeout(timer);
  }
}

class HealthTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

function describe(error: unknown): string {
  if (error instanceof HealthTimeout) return error.message;
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/i.test(code)) return code;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.name : 'unavailable';
}

/**
 * Readiness checks of the dependencies client authentication needs (SPEC S10): the registry's
 * database and, when used, Redis. Results plug into `@nestjs/terminus`:
 *
 * @example
 * ```ts
 * @Get('health/ready')
 * @HealthCheck()
 * ready() {
 *   return this.health.check([
 *     () => this.indicator.database(),
 *     () => this.indicator.redis(this.redisClient),
 *   ]);
 * }
 * ```
 */
@Injectable()
export class ClientAuthHealthIndicator {
  constructor(private readonly moduleRef: ModuleRef) {}

  /**
   * `SELECT 1` on the TypeORM DataSource (the default one, or `dataSource`); `down` when it is
   * not initialised, fails or takes longer than `timeoutMs`.
   */
  database<Key extends string = 'database'>(
    key: Key = 'database' as Key,
    options: { readonly timeoutMs?: number; readonly dataSource?: DataSource } = {},
  ): Promise<DependencyHealth<Key>> {
    return pingDependency(
      key,
      async () => {
        const dataSource =
          options.dataSource ??
          this.moduleRef.get<DataSource>(getDataSourceToken(), { strict: false });
        if (!dataSource.isInitialized) throw new Error('not initialised');
        await dataSource.query('SELECT 1');
      },
      options.timeoutMs,
    );
  }

  /** Redis `PING`; `up` only on `PONG`. */
  redis<Key extends string = 'redis'>(
    client: RedisPingable,
    key: Key = 'redis' as Key,
    options: { readonly timeoutMs?: number } = {},
  ): Promise<DependencyHealth<Key>> {
    return pingDependency(
      key,
      async () => {
        const answer = await client.ping();
        if (answer !== 'PONG') throw new Error('unexpected PING answer');
      },
      options.timeoutMs,
    );
  }
}
