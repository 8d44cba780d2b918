import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { createJwksUriAdmission } from '../core/jwks/jwks-uri-admission.js';
import type { JwksFetcherOptions } from '../core/jwks/jwks-fetcher.js';
import { ClientRegistryService } from '../persistence/client-registry.service.js';
import { InitialAccessTokenService } from '../persistence/initial-access-token.service.js';
import { CLIENT_AUTH_ENTITIES } from '../persistence/entities/index.js';
import { SecretCipher } from '../persistence/secret-cipher.js';
import { TypeOrmClientStore } from '../persistence/typeorm-client-store.js';
import { TypeOrmReplayStore } from '../persistence/typeorm-replay-store.js';

/** Options of `ClientRegistryModule.forRoot()`. */
export interface ClientRegistryModuleOptions {
  /**
   * 32-byte key (64 hex digits or base64/base64url) encrypting stored `client_secret_jwt`
   * secrets and server keys (AES-256-GCM). Required.
   */
  readonly secretEncryptionKey: string;
  /** How long a client is served from the in-process cache, in ms. Default 10000. */
  readonly clientCacheTtlMs?: number;
  /** How often expired `jti`s are purged, in ms. Default 60000; 0 disables. */
  readonly replayPurgeIntervalMs?: number;
  /** Name of the TypeORM connection to use. Default: the default connection. */
  readonly dataSourceName?: string;
  /**
   * How a registered `jwks_uri` is admitted (SPEC S3): the SSRF allow-list (`JWKS_URI_ALLOW_HOSTS`),
   * the resolver, and the fetch limits of the one fetch made at registration.
   */
  readonly jwks?: JwksFetcherOptions;
  /** Most keys a client may hold. Default 20. */
  readonly maxKeysPerClient?: number;
}

const REGISTRY_OPTIONS = Symbol('ClientRegistryOptions');

@Injectable()
class RegistryLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(REGISTRY_OPTIONS) private readonly options: ClientRegistryModuleOptions,
    private readonly replayStore: TypeOrmReplayStore,
    private readonly clientStore: TypeOrmClientStore,
  ) {}

  onModuleInit(): void {
    const interval = this.options.replayPurgeIntervalMs ?? 60_000;
    if (interval > 0) this.replayStore.startPurging(interval);
  }

  async onApplicationShutdown(): Promise<void> {
    this.replayStore.stop();
    await this.clientStore.close();
  }
}

/**
 * The TypeORM client registry (SPEC S3): entities, the cached `TypeOrmClientStore`, the
 * `TypeOrmReplayStore` and `ClientRegistryService`. Needs a TypeORM connection
 * (`TypeOrmModule.forRoot`) with `CLIENT_AUTH_ENTITIES` or `autoLoadEntities: true`.
 *
 * @example
 * ```ts
 * imports: [
 *   TypeOrmModule.forRoot({ type: 'postgres', url, autoLoadEntities: true,
 *     migrations: POSTGRES_MIGRATIONS, migrationsRun: true }),
 *   ClientRegistryModule.forRoot({ secretEncryptionKey: process.env.SECRET_ENCRYPTION_KEY! }),
 *   ClientAuthModule.forRootAsync({
 *     imports: [ClientRegistryModule],
 *     inject: [TypeOrmClientStore, TypeOrmReplayStore],
 *     useFactory: (clientStore, replayStore) => ({ issuer, clientStore, replayStore }),
 *   }),
 * ]
 * ```
 */
@Module({})
export class ClientRegistryModule {
  static forRoot(options: ClientRegistryModuleOptions): DynamicModule {
    const dataSource = getDataSourceToken(options.dataSourceName);
    return {
      module: ClientRegistryModule,
      global: true,
      imports: [TypeOrmModule.forFeature(CLIENT_AUTH_ENTITIES, options.dataSourceName)],
      providers: [
        { provide: REGISTRY_OPTIONS, useValue: options },
        { provide: SecretCipher, useFactory: () => new SecretCipher(options.secretEncryptionKey) },
        {
          provide: TypeOrmClientStore,
          inject: [dataSource, SecretCipher],
          useFactory: (ds: DataSource, cipher: SecretCipher) =>
            new TypeOrmClientStore(ds, cipher, { cacheTtlMs: options.clientCacheTtlMs }),
        },
        {
          provide: TypeOrmReplayStore,
          inject: [dataSource],
          useFactory: (ds: DataSource) => new TypeOrmReplayStore(ds),
        },
        {
          provide: ClientRegistryService,
          inject: [dataSource, SecretCipher, TypeOrmClientStore],
          useFactory: (ds: DataSource, cipher: SecretCipher, store: TypeOrmClientStore) =>
            new ClientRegistryService(ds, cipher, store, {
              admitJwksUri: createJwksUriAdmission(options.jwks ?? {}),
              ...(options.maxKeysPerClient !== undefined && { maxKeys: options.maxKeysPerClient }),
            }),
        },
        {
          provide: InitialAccessTokenService,
          inject: [dataSource],
          useFactory: (ds: DataSource) => new InitialAccessTokenService(ds),
        },
        RegistryLifecycle,
      ],
      exports: [
        SecretCipher,
        TypeOrmClientStore,
        TypeOrmReplayStore,
        ClientRegistryService,
        InitialAccessTokenService,
      ],
    };
  }
}
