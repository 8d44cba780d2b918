import { mkdirSync } from 'node:fs';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { OAuthEndpointExceptionFilter } from 'nestjs-client-auth';
import type { AppConfig } from './config/app-config.js';
import { AppModule } from './app.module.js';
import type { LoggingOptions } from './logging/logging.module.js';

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
 */
export async function createApp(
  config: AppConfig,
  options: { logger?: LogLevel[] | false; logStream?: DestinationStream } = {},
): Promise<NestExpressApplication> {
  if (config.database.type === 'better-sqlite3') mkdirSync(config.dataDir, { recursive: true });
  const level = pinoLevel(options.logger);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, {
      ...(level !== undefined && { level }),
      ...(options.logStream && { stream: options.logStream }),
    }),
    { bodyParser: false, bufferLogs: true },
  );
  // Every log line, the library's included, goes through pino as JSON (SPEC S10).
  app.useLogger(app.get(Logger));
  // RFC 6749 §3.2: form-encoded bodies. `extended: false` keeps values flat: a repeated
  // parameter becomes an array, which client authentication refuses (SPEC S2.1).
  app.useBodyParser('urlencoded', { extended: false, limit: '64kb', parameterLimit: 100 });
  app.useBodyParser('json', { limit: '64kb' });
  // Every route of the reference server is an OAuth endpoint: even errors raised before routing
  // (malformed bodies, unknown paths) answer in the OAuth format.
  app.useGlobalFilters(new OAuthEndpointExceptionFilter());
  app.disable('x-powered-by');
  // OAuth responses are no-store JSON: an ETag would only cost a hash per response.
  app.set('etag', false);
  setUpApiDocs(app, config);
  app.enableShutdownHooks();
  return app;
}

/** OpenAPI for the registration and admin APIs at `/docs` (JSON at `/docs-json`), SPEC S3. */
function setUpApiDocs(app: NestExpressApplication, config: AppConfig): void {
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
