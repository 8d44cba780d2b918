import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RevocationStore } from '../../core/tokens/revocation-store.interface.js';
import { SecretCipher } from '../../persistence/secret-cipher.js';
import { ServerKeyService } from '../../persistence/server-key.service.js';
import { TypeOrmRevocationStore } from '../../persistence/typeorm-revocation-store.js';
import { AccessTokenService } from './access-token.service.js';
import { AdminServerKeysController } from './admin-keys.controller.js';
import { DiscoveryController, JwksController } from './discovery.controller.js';
import { IntrospectionController } from './introspection.controller.js';
import { OAUTH_SERVER_OPTIONS, type OAuthServerOptions } from './oauth-server.options.js';
import { RevocationController } from './revocation.controller.js';
import { TokenController } from './token.controller.js';

/**
 * The authorization server endpoints (SPEC S4): discovery (RFC 8414, both well-known URLs),
 * `jwks_uri`, the token endpoint (`client_credentials`, RFC 7523 JWT bearer grant), RFC 7662
 * introspection and RFC 7009 revocation, RFC 9068 access tokens signed by rotating server keys.
 * Needs `ClientAuthModule` (global) for client authentication and `ClientRegistryModule` for the
 * database; with `ClientRegistryApiModule` the admin API gains `/admin/server-keys`.
 *
 * @example
 * ```ts
 * imports: [
 *   ClientRegistryModule.forRoot({ secretEncryptionKey }),
 *   ClientAuthModule.forRootAsync({ isGlobal: true, inject: [...], useFactory: ... }),
 *   ClientRegistryApiModule.forRoot({ baseUrl: issuer, admin: { token } }),
 *   OAuthServerModule.forRoot({ issuer, accessToken: { ttlSeconds: 300 } }),
 * ]
 * ```
 */
@Module({})
export class OAuthServerModule {
  static forRoot(options: OAuthServerOptions & { readonly adminApi?: boolean }): DynamicModule {
    const providers: Provider[] = [
      { provide: OAUTH_SERVER_OPTIONS, useValue: options },
      {
        provide: RevocationStore,
        inject: [getDataSourceToken()],
        useFactory: (dataSource: DataSource) => new TypeOrmRevocationStore(dataSource),
      },
      {
        provide: ServerKeyService,
        inject: [getDataSourceToken(), SecretCipher],
        useFactory: (dataSource: DataSource, cipher: SecretCipher) =>
          new ServerKeyService(dataSource, cipher, options.keys ?? {}),
      },
      AccessTokenService,
    ];
    const controllers: Type[] = [TokenController, DiscoveryController, JwksController];
    if (options.introspection?.enabled !== false) controllers.push(IntrospectionController);
    if (options.revocation?.enabled !== false) controllers.push(RevocationController);
    if (options.adminApi) controllers.push(AdminServerKeysController);
    return {
      module: OAuthServerModule,
      controllers,
      providers,
      exports: [AccessTokenService, ServerKeyService, RevocationStore],
    };
  }
}
