import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ClientAuthMetrics } from './client-auth-metrics.js';

/**
 * Times every HTTP request into `client_auth_http_request_duration_seconds`, labelled by the
 * matched route pattern (`/oauth/register/:clientId`, never the raw URL, so the label set stays
 * bounded), the method and the status code. Requests that matched no route are `unmatched`.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: ClientAuthMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      this.metrics.observeHttpRequest({
        method: req.method,
        route: routePattern(req),
        statusCode: res.statusCode,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });
    next();
  }
}

/** The Express route pattern that served `req` (mount path included), or `unmatched`. */
function routePattern(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  // A catch-all pattern (`*`, `{/*splat}`) is a middleware's mount (request logging), not a route.
  if (typeof path !== 'string' || path.includes('*')) return 'unmatched';
  return `${req.baseUrl ?? ''}${path}` || '/';
}
