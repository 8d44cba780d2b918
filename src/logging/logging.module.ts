import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { requestIdOf } from 'nestjs-client-auth';
import type { DestinationStream, Level } from 'pino';
import type { AppConfig } from '../config/app-config.js';

/** pino level of each `LOG_LEVEL`. */
export const PINO_LEVELS: Record<AppConfig['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Options of {@link loggingModule}. */
export interface LoggingOptions {
  /** Overrides `LOG_LEVEL`; `silent` turns logging off (tests). */
  readonly level?: Level | 'silent';
  /** Where the JSON lines go. Default: standard output. */
  readonly stream?: DestinationStream;
}

/** Paths that must never reach a log line, whatever a future serializer lets through. */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.body',
  '*.client_secret',
  '*.client_assertion',
  '*.assertion',
  '*.token',
  '*.registration_access_token',
  '*.initial_access_token',
];

/**
 * Structured JSON logs (SPEC S10) through pino: one line per request with its id — the same id
 * as the `X-Request-Id` response header and the failure record — plus every Nest log line of the
 * request, bound to it. Requests are logged as method, path (never the query string) and status;
 * headers and bodies are never logged. Successful requests log at `debug`, so the hot path writes
 * nothing at the default `info`; 4xx at `info`, 5xx at `error`.
 */
export function loggingModule(config: AppConfig, options: LoggingOptions = {}): DynamicModule {
  const settings = {
    level: options.level ?? PINO_LEVELS[config.logLevel],
    genReqId: (req: IncomingMessage, res: ServerResponse) => requestIdOf(req, res),
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    redact: { paths: REDACTED, censor: '[redacted]' },
    autoLogging: {
      ignore: (req: IncomingMessage) => req.url === '/health/live' || req.url === '/metrics',
    },
  };
  return LoggerModule.forRoot({
    pinoHttp: options.stream ? [settings, options.stream] : settings,
  });
}
