import { mkdirSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DestinationStream } from 'pino';
import {
  MALFORMED_REQUEST,
  OAuthEndpointExceptionFilter,
  platformRefusal,
  registerOAuthBodyParsers,
  writeOAuthError,
} from 'nestjs-client-auth';
import type { AppConfig } from './config/app-config.js';
import { AppModule } from './app.module.js';
import {
  createLogger,
  installRequestLogging,
  type LoggingOptions,
  PinoNestLogger,
} from './logging/logger.js';

/** The pino level for Nest's level list (`false`: silent). */
function pinoLevel(levels: LogLevel[] | false | undefined): LoggingOptions['level'] {
  if (levels === undefined) return undefined;
  if (levels === false || levels.length === 0) return 'silent';
  for (const [nest, pino] of [
    ['verbose', 'trace'],
    ['debug', 'debug'],
    ['log', 'info'],
    ['warn', 'warn'],
    ['error', 'error'],
  ] as const) {
    if (levels.includes(nest)) return pino;
  }
  return 'fatal';
}

/**
 * Builds the reference server from a validated configuration; `main.ts` and the end-to-end tests
 * both start it this way, so tests exercise the real body parsing and error handling.
 *
 * The HTTP adapter is Fastify: measured with the benchmark (docs/benchmarks.md), a Nest route on
 * Fastify costs a fraction of the same route on Express, and the token endpoint's time then goes
 * to its cryptography. The library runs on either adapter.
 */
export async function createApp(
  config: AppConfig,
  options: { logger?: LogLevel[] | false; logStream?: DestinationStream } = {},
): Promise<NestFastifyApplication> {
  if (config.database.type === 'better-sqlite3') mkdirSync(config.dataDir, { recursive: true });
  const level = pinoLevel(options.logger);
  const logger = createLogger(config, {
    ...(level !== undefined && { level }),
    ...(options.logStream && { stream: options.logStream }),
  });
  const adapter = new FastifyAdapter({
    // RFC 6749 §3.2 form bodies and the registry's JSON documents: 64 KiB is ample for both.
    bodyLimit: 64 * 1024,
    // Closing: in-flight requests finish, idle keep-alive connections close, and a request
    // arriving meanwhile on a kept-alive connection is still answered, not refused with a
    // non-OAuth 503 (SIGTERM drains, SPEC S10).
    return503OnClosing: false,
    // Client ids run to 255 characters (up to 765 once percent-encoded) in the RFC 7592 and
    // admin paths; Fastify's default refuses a path parameter over 100.
    routerOptions: { maxParamLength: 1024 },
    // A request must arrive whole within REQUEST_TIMEOUT_MS (Fastify's default is no limit): a
    // client sending its body byte by byte cannot hold a connection open. Node checks the
    // deadlines every `connectionsCheckingInterval` (30 s by default), hence the own server.
    serverFactory: (handler: RequestListener) =>
      createServer(
        {
          requestTimeout: config.requestTimeoutMs,
          headersTimeout: Math.min(60_000, config.requestTimeoutMs),
          connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
          keepAliveTimeout: 72_000,
        },
        handler,
      ),
    forceCloseConnections: 'idle',
    // Fastify answers a malformed URL before Nest's filters run: in the OAuth format here too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { status, description } = platformRefusal(error) ?? MALFORMED_REQUEST;
      writeOAuthError(request, reply, status, {
        error: 'invalid_request',
        error_description: description,
      });
    },
  });
  // RFC 6749 §3.2 forms (UTF-8, flat, at most 100 parameters) and strict JSON for the registry.
  registerOAuthBodyParsers(adapter.getInstance(), { bodyLimit: 64 * 1024, parameterLimit: 100 });
  // Every log line, the library's included, goes through pino as JSON (SPEC S10).
  installRequestLogging(adapter.getInstance(), logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
  });
  // Every route of the reference server is an OAuth endpoint: even errors raised before routing
  // (malformed bodies, unknown paths) answer in the OAuth format.
  app.useGlobalFilters(new OAuthEndpointExceptionFilter());
  setUpApiDocs(app, config);
  app.enableShutdownHooks();
  return app;
}

/** OpenAPI for the registration and admin APIs at `/docs` (JSON at `/docs-json`), SPEC S3. */
function setUpApiDocs(app: NestFastifyApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('nestjs-client-auth reference server')
      .setDescription(
        'Dynamic client registration (RFC 7591), client configuration (RFC 7592) and the admin ' +
          'REST API of the client registry. Errors use the OAuth format `{error, error_description}`.',
      )
      .setVersion('1')
      .addServer(config.issuer)
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'admin-token')
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'initial-access-token')
      .addBearerAuth({ type: 'http', scheme: 'bearer' }, 'registration-access-token')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'access-token')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
