import {
  Controller,
  Get,
  Header,
  HttpException,
  Inject,
  Logger,
  Optional,
  Res,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { HttpReplyLike } from 'nestjs-client-auth';
import { ClientAuthHealthIndicator } from 'nestjs-client-auth';
import type { HealthRedisConnection } from './health-redis.provider.js';
import { HEALTH_REDIS } from './ops.constants.js';

/**
 * Liveness and readiness (SPEC S10) with `@nestjs/terminus`:
 * - `GET /health/live` — the process is up and serving: 200 while it is, draining included;
 * - `GET /health/ready` — the database answers (and Redis, with `REDIS_URL`): 200, else 503;
 *   also 503 (`shutting_down`) once shutdown has begun.
 *
 * Bodies are terminus' JSON (`{status, info, error, details}`); a `down` entry names the error
 * code (`ECONNREFUSED`, `timed out after 1000 ms`), never a connection string.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  readonly #logger = new Logger('Health');
  #ready: boolean | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: ClientAuthHealthIndicator,
    @Optional() @Inject(HEALTH_REDIS) private readonly redis?: HealthRedisConnection,
  ) {}

  /**
   * Liveness: the process answers. No dependency is checked (an outage must not get the process
   * restarted), and it stays 200 while shutting down (a draining process is not dead).
   */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): HealthCheckResult {
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  /** Readiness: the dependencies a request needs. */
  @Get('ready')
  @HealthCheck() // also sets `Cache-Control: no-cache, no-store, must-revalidate`
  async ready(@Res({ passthrough: true }) res: HttpReplyLike): Promise<HealthCheckResult> {
    const redis = this.redis;
    const result = await this.#answer(
      res,
      this.health.check([
        () => this.indicator.database(),
        ...(redis ? [() => this.indicator.redis(redis)] : []),
      ]),
    );
    this.#logTransition(result);
    return result;
  }

  /** Terminus signals failure with a 503 exception holding the result: answer it as JSON here. */
  async #answer(res: HttpReplyLike, check: Promise<HealthCheckResult>): Promise<HealthCheckResult> {
    try {
      return await check;
    } catch (error) {
      if (!(error instanceof HttpException)) throw error;
      res.status(error.getStatus());
      return error.getResponse() as HealthCheckResult;
    }
  }

  /** Logs readiness changes only, so a probe every few seconds does not flood the log. */
  #logTransition(result: HealthCheckResult): void {
    const ready = result.status === 'ok' || result.status === 'degraded';
    if (this.#ready === ready) return;
    const previous = this.#ready;
    this.#ready = ready;
    if (!ready) {
      const down = Object.entries(result.error ?? {})
        .map(([key, value]) => `${key}=${(value as { message?: string }).message ?? 'down'}`)
        .join(' ');
      this.#logger.warn(`not ready (${result.status}) ${down}`.trim());
    } else if (previous === false) {
      this.#logger.log('ready again');
    }
  }
}
