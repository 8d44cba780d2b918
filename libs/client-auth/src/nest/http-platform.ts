import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request as guards, filters and controllers see it, on either Nest HTTP adapter: Express'
 * `Request` (a Node `IncomingMessage`) and Fastify's `FastifyRequest` (which wraps one in `raw`)
 * both fit. The library reads nothing else, so it runs unchanged on `@nestjs/platform-express`
 * and `@nestjs/platform-fastify`.
 */
export interface HttpRequestLike {
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  readonly url: string;
  /** Express and Fastify: the URL before any router rewrote `url`. */
  readonly originalUrl?: string;
  /** Parsed body (form or JSON), when the platform parsed one. */
  readonly body?: unknown;
  /** Parsed query string. */
  readonly query?: unknown;
  /** The caller's address as the platform sees it (its `trust proxy` setting applied). */
  readonly ip?: string;
  /** Fastify: the Node request. */
  readonly raw?: IncomingMessage;
}

/**
 * The reply methods Express' `Response` and Fastify's `FastifyReply` share: `status`, `header`
 * and `send` (an object is sent as JSON by both).
 */
export interface HttpReplyLike {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
  send(body?: unknown): unknown;
  /** Fastify: the Node response. */
  readonly raw?: ServerResponse;
}

/** The Node request under either platform's request object. */
export function nodeRequest(req: HttpRequestLike | IncomingMessage): IncomingMessage {
  return (req as HttpRequestLike).raw ?? (req as IncomingMessage);
}

/**
 * The Node response under either platform's reply object; on Express also found from the request
 * (`req.res`), which Fastify does not provide.
 */
export function nodeResponse(
  res: HttpReplyLike | ServerResponse | undefined,
  req?: HttpRequestLike | IncomingMessage,
): ServerResponse | undefined {
  if (res !== undefined) return (res as HttpReplyLike).raw ?? (res as ServerResponse);
  return (req as { res?: ServerResponse } | undefined)?.res;
}

/** The request path without its query string, as the client sent it. */
export function requestPath(req: HttpRequestLike | IncomingMessage): string {
  const url = (req as HttpRequestLike).originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Sends `body` as JSON with `status` and `headers` through the platform's reply (Express or
 * Fastify), so the platform's own response hooks (logging, metrics) see it. `body` undefined
 * sends an empty body.
 */
export function sendReply(
  res: HttpReplyLike,
  status: number,
  headers: Readonly<Record<string, string>>,
  body?: object,
): void {
  res.status(status);
  for (const name in headers) res.header(name, headers[name]!);
  res.send(body);
}
