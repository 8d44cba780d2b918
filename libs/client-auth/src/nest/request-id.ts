import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER } from './client-auth.constants.js';
import {
  type HttpReplyLike,
  type HttpRequestLike,
  nodeRequest,
  nodeResponse,
} from './http-platform.js';

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const REQUEST_ID = Symbol('requestId');

type WithRequestId = IncomingMessage & { [REQUEST_ID]?: string };

/**
 * The id joining a response to its log lines and failure record (SPEC S2.9). Taken from a
 * well-formed `X-Request-Id` header when `trustHeader`, generated otherwise; echoed on the response.
 * Takes Node's objects or either Nest platform's (Express, Fastify); the id lives on the Node request.
 */
export function requestIdOf(
  request: IncomingMessage | HttpRequestLike,
  response?: ServerResponse | HttpReplyLike,
  trustHeader = true,
): string {
  const req = nodeRequest(request);
  const res = nodeResponse(response, request);
  const holder = req as WithRequestId;
  let id = holder[REQUEST_ID];
  if (id === undefined) {
    const header = req.headers[REQUEST_ID_HEADER];
    id =
      trustHeader && typeof header === 'string' && VALID_REQUEST_ID.test(header)
        ? header
        : randomUUID();
    holder[REQUEST_ID] = id;
  }
  if (res && !res.headersSent && !res.hasHeader(REQUEST_ID_HEADER)) {
    res.setHeader(REQUEST_ID_HEADER, id);
  }
  return id;
}
