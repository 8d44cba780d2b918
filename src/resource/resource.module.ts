import { type DynamicModule, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ResourceServerModule, ServerKeyService } from 'nestjs-client-auth';
import type { AppConfig } from '../config/app-config.js';
import { ProtectedController } from './protected.controller.js';

/**
 * The reference server's protected API (SPEC S8): `ResourceServerModule` configured for the
 * server's own issuer and access token audience, verifying with the server's published keys
 * (`ServerKeyService.publicJwks()`: current, next and retiring keys, so rotation needs no
 * refetch) rather than over HTTP — the issuer URL need not resolve from inside the server.
 */
@Module({})
export class ResourceModule {
  /** The protected API for `config`; needs `OAuthServerModule` (which owns `ServerKeyService`) in the app. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ResourceModule,
      imports: [
        ResourceServerModule.forRootAsync({
          inject: [ModuleRef],
          useFactory: (moduleRef: ModuleRef) => {
            let keys: ServerKeyService | undefined;
            return {
              issuer: config.issuer,
              audience: config.accessTokenAudience,
              realm: config.issuer,
              // Resolved on first use: OAuthServerModule's providers are not visible from here.
              jwks: () => {
                keys ??= moduleRef.get(ServerKeyService, { strict: false }) ?? undefined;
                if (!keys) throw new Error('ServerKeyService is not available (OAuthServerModule)');
                return keys.publicJwks();
              },
            };
          },
        }),
      ],
      controllers: [ProtectedController],
    };
  }
}
