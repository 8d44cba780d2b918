import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { ClientAuthMetrics } from './client-auth-metrics.js';

/**
 * Times every HTTP request into `client_auth_http_request_duration_seconds`, labelled by the
 * matched route pattern (`/oauth/register/:clientId`, never the raw URL, so the label set stays
 * bounded), the method and the status code. Requests that matched no route are `unmatched`.
 *
 * On Express this middleware does it; on Fastify `ClientAuthMetricsModule` adds
 * {@link fastifyHttpMetricsHook} as an `onResponse` hook instead (no middleware layer there).
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: ClientAuthMetrics) {}

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      this.metrics.observeHttpRequest({
        method: req.method ?? 'OTHER',
        route: expressRoutePattern(req),
        statusCode: res.statusCode,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });
    next();
  }
}

/** The Express route pattern that served `req` (mount path included), or `unmatched`. */
function expressRoutePattern(req: IncomingMessage): string {
  const express = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  const path = express.route?.path;
  // A catch-all pattern (`*`, `{/*splat}`) is a middleware's mount (request logging), not a route.
  if (typeof path !== 'string' || path.includes('*')) return 'unmatched';
  return `${express.baseUrl ?? ''}${path}` || '/';
}

/** The parts of Fastify's request and reply the hook reads. */
interface FastifyHookRequest {
  readonly method: string;
  readonly routeOptions?: { readonly url?: string };
}
interface FastifyHookReply {
  readonly statusCode: number;
  /** Milliseconds since Fastify received the request. */
  readonly elapsedTime: number;
}

/**
 * A Fastify `onResponse` hook doing what {@link HttpMetricsMiddleware} does on Express: the route
 * pattern comes from `request.routeOptions.url` (undefined, hence `unmatched`, for a 404).
 */
export function fastifyHttpMetricsHook(
  metrics: ClientAuthMetrics,
): (request: FastifyHookRequest, reply: FastifyHookReply, done: () => void) => void {
  return (request, reply, done) => {
    const route = request.routeOptions?.url;
    metrics.observeHttpRequest({
      method: request.method,
      route: route === undefined || route.includes('*') ? 'unmatched' : route,
      statusCode: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
    done();
  };
}
