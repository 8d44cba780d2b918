import { mkdirSync } from 'node:fs';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { OAuthEndpointExceptionFilter } from 'nestjs-client-auth';
import type { AppConfig } from './config/app-config.js';
import { AppModule } from './app.module.js';

const LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * Builds the reference server from a validated configuration; `main.ts` and the end-to-end tests
 * both start it this way, so tests exercise the real body parsing and error handling.
 */
export async function createApp(
  config: AppConfig,
  options: { logger?: LogLevel[] | false } = {},
): Promise<NestExpressApplication> {
  if (config.database.type === 'better-sqlite3') mkdirSync(config.dataDir, { recursive: true });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    logger: options.logger ?? LEVELS[config.logLevel],
  });
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
