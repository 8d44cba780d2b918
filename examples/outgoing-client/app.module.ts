import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { ClientAuthClientsModule, ClientAuthHttpModule } from 'nestjs-client-auth';
import type { OutgoingExampleConfig } from './config.js';
import { EXAMPLE_CONFIG, ReportController } from './report.controller.js';

/**
 * A microservice calling a protected API — by default the reference server's `GET /api/reports`
 * — with no long-lived secret (SPEC S7): a private key
 * file (re-read on rotation) signs `private_key_jwt` assertions, the token client obtains and
 * caches access tokens, and `ClientAuthHttpModule` attaches them to `HttpService` calls.
 */
@Module({})
export class OutgoingExampleModule {
  static forRoot(config: OutgoingExampleConfig): DynamicModule {
    return {
      module: OutgoingExampleModule,
      imports: [
        ClientAuthClientsModule.forRoot({
          isGlobal: true,
          clients: {
            reporting: {
              clientId: config.clientId,
              issuer: config.issuer,
              ...(config.tokenEndpoint ? { tokenEndpoint: config.tokenEndpoint } : {}),
              signingKey: { file: config.privateKeyFile, kid: config.keyId },
              ...(config.scope ? { scope: config.scope } : {}),
            },
          },
        }),
        ClientAuthHttpModule.register({ client: 'reporting', http: { timeout: 5000 } }),
      ],
      controllers: [ReportController],
      providers: [{ provide: EXAMPLE_CONFIG, useValue: config }],
    };
  }
}

/**
 * Creates the example app (not listening yet). A start-up failure (an unreadable key file, an
 * invalid client) is thrown to the caller rather than ending the process.
 */
export async function createOutgoingExampleApp(
  config: OutgoingExampleConfig,
  options: { logger?: false } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create(OutgoingExampleModule.forRoot(config), {
    abortOnError: false,
    ...options,
  });
  app.enableShutdownHooks();
  return app;
}
