import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { AccessTokenError } from '../core/access-token/access-token-error.js';
import { OAuthError, type OAuthErrorCode } from '../core/errors.js';
import { type HttpReplyLike, type HttpRequestLike, sendReply } from './http-platform.js';
import { requestIdOf } from './request-id.js';
import { writeAccessTokenError } from './resource-server/write-access-token-error.js';

/** The RFC 6749 §5.2 error body. */
export interface OAuthErrorBody {
  error: OAuthErrorCode | string;
  error_description: string;
}

/**
 * Writes an OAuth-format error: status, JSON `{error, error_description}`, `Cache-Control:
 * no-store`, the request id, and `WWW-Authenticate: Basic` on a 401 when the client used Basic
 * (RFC 6749 §5.2). Shared by both filters below; Express and Fastify alike.
 */
export function writeOAuthError(
  req: HttpRequestLike,
  res: HttpReplyLike,
  status: number,
  body: OAuthErrorBody,
): void {
  requestIdOf(req, res);
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  if (status === 401 && body.error === 'invalid_token') {
    // RFC 6750 §3: bearer-protected resources (registration, RFC 7592, admin API).
    headers['WWW-Authenticate'] = 'Bearer realm="oauth", error="invalid_token"';
  } else if (status === 401 && /^basic\s/i.test(req.headers.authorization ?? '')) {
    headers['WWW-Authenticate'] = 'Basic realm="oauth", charset="UTF-8"';
  }
  sendReply(res, status, headers, body);
}

/**
 * Renders every `OAuthError` the library throws (client authentication failures, registry
 * validation, outages as 503). Registered globally by `ClientAuthModule`; it catches only the
 * library's errors, so the host application's own error handling is untouched.
 */
@Catch(OAuthError)
export class OAuthExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ClientAuth');

  catch(exception: OAuthError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    const res = http.getResponse<HttpReplyLike>();
    // Resource server (SPEC S8): RFC 6750 §3 challenge, whichever global filter Nest picks.
    if (exception instanceof AccessTokenError) return writeAccessTokenError(req, res, exception);
    if (exception.status >= 500) {
      this.logger.error(
        `${exception.error}: ${describeCause(exception)} request=${requestIdOf(req, res)}`,
      );
    }
    writeOAuthError(req, res, exception.status, {
      error: exception.error,
      error_description: exception.description,
    });
  }
}

const HTTP_ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'access_denied',
  404: 'not_found',
  405: 'invalid_request',
  413: 'invalid_request',
  415: 'invalid_request',
  429: 'slow_down',
};

/**
 * For OAuth endpoints (token, introspection, revocation, registration): answers *every* error in
 * the OAuth format — Nest's own 4xx (malformed body, 404, payload too large) become
 * `invalid_request` and friends; a database or network outage becomes 503
 * `temporarily_unavailable`; anything else is logged with its stack and answered 500 without it.
 */
@Catch()
export class OAuthEndpointExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuthEndpoint');
  private readonly oauthFilter = new OAuthExceptionFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof OAuthError) return this.oauthFilter.catch(exception, host);
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    const res = http.getResponse<HttpReplyLike>();
    const refused = platformRefusal(exception);
    if (refused) {
      writeOAuthError(req, res, refused.status, {
        error: HTTP_ERROR_CODES[refused.status] ?? 'invalid_request',
        error_description: refused.description,
      });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        writeOAuthError(req, res, status, {
          error: HTTP_ERROR_CODES[status] ?? 'invalid_request',
          error_description: describeHttpException(exception),
        });
        return;
      }
    }
    const requestId = requestIdOf(req, res);
    if (isOutage(exception)) {
      this.logger.error(`dependency unavailable: ${describeCause(exception)} request=${requestId}`);
      writeOAuthError(req, res, 503, {
        error: 'temporarily_unavailable',
        error_description: 'the service is temporarily unavailable',
      });
      return;
    }
    this.logger.error(
      `unexpected error request=${requestId}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    writeOAuthError(req, res, 500, {
      error: 'server_error',
      error_description: 'an unexpected error occurred',
    });
  }
}

/** The answer to a platform refusal {@link platformRefusal} does not know. */
export const MALFORMED_REQUEST = Object.freeze({
  status: 400,
  description: 'the request is malformed',
});

/** Fixed descriptions of Fastify's own request refusals (their messages may quote input). */
const FASTIFY_REFUSALS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'the request body has an unsupported media type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the request body does not match its Content-Length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is not valid JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
  FST_ERR_CTP_INVALID_TYPE: 'the Content-Type header is malformed',
  FST_ERR_CTP_EMPTY_TYPE: 'the Content-Type header is malformed',
  FST_ERR_BAD_URL: 'the request URL is malformed',
};

/**
 * A request the HTTP platform itself refused before any route ran (Fastify's `FST_ERR_*` with a
 * 4xx `statusCode`, possibly wrapped by Nest): its status and a fixed description. Used by
 * `OAuthEndpointExceptionFilter`, and by a Fastify `frameworkErrors` handler for the refusals
 * Fastify answers before Nest's filters run (malformed URLs).
 *
 * @example
 * ```ts
 * frameworkErrors: (error, request, reply) => {
 *   const { status, description } = platformRefusal(error) ?? MALFORMED_REQUEST;
 *   writeOAuthError(request, reply, status, { error: 'invalid_request', error_description: description });
 * }
 * ```
 */
export function platformRefusal(
  exception: unknown,
): { status: number; description: string } | undefined {
  for (let e: unknown = exception, depth = 0; e && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    const status = (e as { statusCode?: unknown }).statusCode;
    if (typeof code === 'string' && code.startsWith('FST_ERR_')) {
      const clientStatus =
        typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
      if (clientStatus === undefined) return undefined;
      return {
        status: clientStatus,
        description: FASTIFY_REFUSALS[code] ?? MALFORMED_REQUEST.description,
      };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeHttpException(exception: HttpException): string {
  // Body-parser messages quote the submitted body (which may hold a secret): never echo them.
  const cause = (exception as { cause?: unknown }).cause;
  if (
    cause instanceof SyntaxError ||
    (cause as { type?: unknown })?.type === 'entity.parse.failed'
  ) {
    return 'the request body is not valid JSON';
  }
  if (cause instanceof URIError) return 'the request URL is malformed';
  if ((cause as { type?: unknown })?.type === 'entity.too.large') {
    return 'the request body is too large';
  }
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}

const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08003',
  '08006',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
]);

/** Whether an unknown error is a dependency outage (connection-level), not a bug. */
export function isOutage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /Connection terminated|connection is not established|Driver not Connected|The database connection is not open/i.test(
        message,
      )
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause ?? (e as { driverError?: unknown }).driverError;
  }
  return false;
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}
