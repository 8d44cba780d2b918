import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import { requestIdOf, requestPath } from 'nestjs-client-auth';
import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/** pino level of each `LOG_LEVEL`. */
export const PINO_LEVELS: Record<AppConfig['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Options of {@link createLogger}. */
export interface LoggingOptions {
  /** Overrides `LOG_LEVEL`; `silent` turns logging off (tests). */
  readonly level?: Level | 'silent';
  /** Where the JSON lines go. Default: standard output. */
  readonly stream?: DestinationStream;
}

/** Paths that must never reach a log line, whatever a future call site passes. */
const REDACTED = [
  'req.headers',
  'req.body',
  '*.client_secret',
  '*.client_assertion',
  '*.assertion',
  '*.token',
  '*.registration_access_token',
  '*.initial_access_token',
];

/** The JSON logger of the server (SPEC S10): pino, with the redaction list above. */
export function createLogger(config: AppConfig, options: LoggingOptions = {}): Logger {
  const settings = {
    level: options.level ?? PINO_LEVELS[config.logLevel],
    redact: { paths: REDACTED, censor: '[redacted]' },
  };
  return options.stream ? pino(settings, options.stream) : pino(settings);
}

/**
 * Nest's logger interface over pino: every Nest and library log line becomes one JSON line with
 * the Nest context (`context`) and the message (`msg`). Library lines about a request name it as
 * `request=<id>`, the id of the `X-Request-Id` header and of the request's completion line.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.#write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    if (!this.logger.isLevelEnabled('error')) return;
    // Nest passes (message, stack?, context?): the context last, a stack before it.
    const last = rest[rest.length - 1];
    const lastIsStack = typeof last === 'string' && /\n\s+at /.test(last);
    const context = typeof last === 'string' && !lastIsStack ? last : undefined;
    const stack = lastIsStack ? last : rest.length > 1 ? rest[0] : undefined;
    this.logger.error({ context, ...(typeof stack === 'string' && { stack }) }, text(message));
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.#write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.#write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.#write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.#write('fatal', message, rest);
  }

  #write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context = rest[rest.length - 1];
    this.logger[level](
      { context: typeof context === 'string' ? context : undefined },
      text(message),
    );
  }
}

function text(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return `${message.name}: ${message.message}`;
  return JSON.stringify(message);
}

/** Paths whose requests are not logged (probes and scrapes). */
const QUIET_PATHS = new Set(['/health/live', '/metrics']);

/** The pieces of Fastify's request and reply the hooks read. */
interface HookRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}
interface HookReply {
  readonly raw: ServerResponse;
  readonly statusCode: number;
  readonly elapsedTime: number;
}
interface HookHost {
  addHook(
    name: 'onRequest' | 'onResponse',
    hook: (request: HookRequest, reply: HookReply, done: () => void) => void,
  ): unknown;
}

/**
 * Request ids and one completion line per request, as two Fastify hooks. `onRequest` gives every
 * request its id (a well-formed `X-Request-Id` it came with, else a new one) and echoes it on the
 * response; `onResponse` logs `{req: {id, method, path}, res: {statusCode}, responseTime}` —
 * the path without its query string, never headers or bodies. Successful requests log at
 * `debug`, so the hot path writes nothing at the default `info`; 4xx at `info`, 5xx at `error`.
 * The level check comes first: a line that would be dropped costs nothing to build.
 */
export function installRequestLogging(fastify: HookHost, logger: Logger): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    requestIdOf(request.raw, reply.raw);
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level: Level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
    if (logger.isLevelEnabled(level)) {
      const path = requestPath(request);
      if (!QUIET_PATHS.has(path)) {
        logger[level](
          {
            req: { id: requestIdOf(request.raw), method: request.method, path },
            res: { statusCode: status },
            responseTime: Math.round(reply.elapsedTime),
          },
          status >= 500 ? 'request failed' : 'request completed',
        );
      }
    }
    done();
  });
}
