import { join } from 'node:path';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  CLIENT_AUTH_ENTITIES,
  ClientAuthModule,
  ClientRegistryApiModule,
  ClientRegistryModule,
  loadOrCreateKeyFile,
  migrationsFor,
  TypeOrmClientStore,
  TypeOrmReplayStore,
} from 'nestjs-client-auth';
import type { AppConfig } from './config/app-config.js';
import { APP_CONFIG } from './config/app-config.token.js';
import { DiscoveryController, JwksController } from './discovery/discovery.controller.js';
import { ServerKeysService } from './keys/server-keys.service.js';
import { AccessTokenIssuer } from './token/access-token.issuer.js';
import { TokenController } from './token/token.controller.js';

/** TypeORM options for the configured database; migrations run at start-up (SPEC S1). */
export function databaseOptions(config: AppConfig): TypeOrmModuleOptions {
  const common = {
    entities: CLIENT_AUTH_ENTITIES,
    migrations: migrationsFor(config.database.type),
    migrationsRun: true,
    synchronize: false,
    retryAttempts: 3,
    retryDelay: 1000,
  };
  return config.database.type === 'better-sqlite3'
    ? { ...common, type: 'better-sqlite3', database: config.database.path }
    : { ...common, type: 'postgres', url: config.database.url };
}

/**
 * The encryption key for stored secrets: `SECRET_ENCRYPTION_KEY`, or on the embedded default a
 * key generated into the data directory (with a warning, SPEC S1).
 */
export function secretEncryptionKey(config: AppConfig): string {
  if (config.secretEncryptionKey) return config.secretEncryptionKey;
  const path = join(config.dataDir, 'secret-encryption.key');
  new Logger('Config').warn(
    `SECRET_ENCRYPTION_KEY is unset: using the generated key in ${path}; set it in production`,
  );
  return loadOrCreateKeyFile(path);
}

/** The reference OAuth server (SPEC S1, S4): the library composed with a database. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(databaseOptions(config)),
        ClientRegistryModule.forRoot({
          secretEncryptionKey: secretEncryptionKey(config),
          jwks: { allowHosts: config.jwksUriAllowHosts },
        }),
        ClientRegistryApiModule.forRoot({
          baseUrl: config.issuer,
          audiencePolicy: config.audiencePolicy,
          registration: {
            ...(config.initialAccessToken && { initialAccessToken: config.initialAccessToken }),
          },
          admin: { ...(config.adminToken && { token: config.adminToken }) },
        }),
        ClientAuthModule.forRootAsync({
          inject: [TypeOrmClientStore, TypeOrmReplayStore],
          useFactory: (clientStore: TypeOrmClientStore, replayStore: TypeOrmReplayStore) => ({
            issuer: config.issuer,
            tokenEndpoint: `${config.issuer}/oauth/token`,
            audiencePolicy: config.audiencePolicy,
            clientStore,
            replayStore,
            jwks: {
              allowHosts: config.jwksUriAllowHosts,
              cooldownSeconds: config.jwksRefreshCooldownSeconds,
            },
          }),
        }),
      ],
      controllers: [TokenController, DiscoveryController, JwksController],
      providers: [{ provide: APP_CONFIG, useValue: config }, ServerKeysService, AccessTokenIssuer],
    };
  }
}
