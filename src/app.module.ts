import { join } from 'node:path';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { AdminConsoleModule } from 'nestjs-client-auth';
import type { JWK } from 'jose';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  CLIENT_AUTH_ENTITIES,
  ClientAuthModule,
  ClientAuthRedisModule,
  ClientRegistryApiModule,
  ClientRegistryModule,
  loadOrCreateKeyFile,
  migrationsFor,
  OAuthServerModule,
  RedisReplayStore,
  type ReplayStore,
  TypeOrmClientStore,
  TypeOrmReplayStore,
} from 'nestjs-client-auth';
import type { AppConfig } from './config/app-config.js';
import { APP_CONFIG } from './config/app-config.token.js';
import { ResourceModule } from './resource/resource.module.js';
import { OpsModule } from './ops/ops.module.js';

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
    ? {
        ...common,
        type: 'better-sqlite3',
        database: config.database.path,
        // Write-ahead log: readers never wait for the writer, and a commit appends to the log
        // instead of rewriting pages. `synchronous = NORMAL` is durable across process crashes
        // (not across power loss, where the last commits may be lost) — see docs/architecture.md.
        enableWAL: true,
        prepareDatabase: (db: { pragma(source: string): unknown }) => {
          db.pragma('synchronous = NORMAL');
          // Checkpoint (copy the log back, with an fsync) every 10 000 pages instead of 1 000:
          // each checkpoint runs inside a commit on the event loop, so fewer of them cut the
          // token endpoint's p99 (measured 17–26 ms → 2–9 ms); the log grows to about 40 MB.
          db.pragma('wal_autocheckpoint = 10000');
        },
      }
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

/**
 * With `REDIS_URL`: the shared Redis replay store (chosen over the TypeORM one below) and the
 * client invalidation broadcast between instances (docs/scaling.md). Without it, nothing.
 */
export function redisModules(config: AppConfig): DynamicModule[] {
  if (!config.redisUrl) return [];
  return [
    ClientAuthRedisModule.forRoot({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix }),
  ];
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
        AdminConsoleModule.forRoot(),
        ...redisModules(config),
        ClientAuthModule.forRootAsync({
          isGlobal: true,
          inject: [TypeOrmClientStore, config.redisUrl ? RedisReplayStore : TypeOrmReplayStore],
          useFactory: (clientStore: TypeOrmClientStore, replayStore: ReplayStore) => ({
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
        ResourceModule.forRoot(config),
        OpsModule.forRoot(config),
        OAuthServerModule.forRoot({
          issuer: config.issuer,
          adminApi: true,
          accessToken: {
            ttlSeconds: config.accessTokenTtlSeconds,
            audience: config.accessTokenAudience,
          },
          ...(config.resourceIndicators.length > 0 && { resources: config.resourceIndicators }),
          ...(config.trustedIssuers.length > 0 && {
            trustedIssuers: config.trustedIssuers.map((entry) => ({
              issuer: entry.issuer,
              ...(entry.jwksUri !== undefined && { jwksUri: entry.jwksUri }),
              ...(entry.jwks !== undefined && { jwks: entry.jwks as { keys: JWK[] } }),
              ...(entry.subjects !== undefined && { subjects: entry.subjects }),
            })),
          }),
          keys: {
            retireAfterSeconds: config.serverKeyRetireAfterSeconds,
            ...(config.signingKeys && { staticKeys: config.signingKeys.keys as JWK[] }),
          },
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }],
    };
  }
}
