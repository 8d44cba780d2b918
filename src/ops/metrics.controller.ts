import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { HttpRequestLike, HttpReplyLike } from 'nestjs-client-auth';
import { ClientAuthMetrics, writeOAuthError } from 'nestjs-client-auth';
import { OPS_CONFIG, type OpsConfig } from './ops.constants.js';

/**
 * Prometheus scrape endpoint, `GET /metrics` (text exposition format). With `METRICS_TOKEN` set
 * it requires `Authorization: Bearer <token>` (RFC 6750 §2.1), compared in constant time.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  readonly #tokenDigest?: Buffer;

  constructor(
    private readonly metrics: ClientAuthMetrics,
    @Inject(OPS_CONFIG) config: OpsConfig,
  ) {
    if (config.metricsToken) this.#tokenDigest = digest(config.metricsToken);
  }

  @Get()
  async scrape(@Req() req: HttpRequestLike, @Res() res: HttpReplyLike): Promise<void> {
    if (this.#tokenDigest && !this.#authorized(req)) {
      // RFC 6750 §3.1: 401 invalid_token with a Bearer challenge (set by writeOAuthError).
      writeOAuthError(req, res, 401, {
        error: 'invalid_token',
        error_description: 'a valid metrics bearer token is required',
      });
      return;
    }
    const body = await this.metrics.metrics();
    res.header('Cache-Control', 'no-store');
    res.header('Content-Type', this.metrics.contentType);
    res.send(body);
  }

  #authorized(req: HttpRequestLike): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!), this.#tokenDigest!);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
