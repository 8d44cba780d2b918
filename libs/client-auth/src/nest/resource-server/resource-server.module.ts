import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccessTokenVerifier } from '../../core/access-token/access-token-verifier.js';
import { AccessTokenAuthenticationService } from './access-token-authentication.service.js';
import { AccessTokenExceptionFilter } from './access-token-exception.filter.js';
import { AccessTokenGuard } from './access-token.guard.js';
import { AccessTokenStrategy } from './access-token.strategy.js';
import {
  RESOURCE_SERVER_OPTIONS,
  ResourceServerConfigurableModule,
} from './resource-server.module-definition.js';
import type { ResourceServerModuleOptions } from './resource-server.options.js';

/**
 * Protects the routes of a NestJS API with OAuth access tokens (SPEC S8): `AccessTokenGuard`,
 * the `oauth-access-token` Passport strategy, `@RequiredScopes()`, `@AccessTokenClaims()` and
 * RFC 6750 answers (`AccessTokenExceptionFilter`, registered globally; it handles only access
 * token errors and key-source outages). The `AccessTokenVerifier` is built once from the options
 * and can be injected.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ResourceServerModule.forRoot({
 *       issuer: 'https://auth.example.com', // jwks_uri discovered (RFC 8414)
 *       audience: 'https://api.example.com',
 *     }),
 *   ],
 *   controllers: [ReportsController],
 * })
 * export class ApiModule {}
 * ```
 */
@Module({
  providers: [
    {
      provide: AccessTokenVerifier,
      inject: [RESOURCE_SERVER_OPTIONS],
      useFactory: (options: ResourceServerModuleOptions) => new AccessTokenVerifier(options),
    },
    AccessTokenAuthenticationService,
    AccessTokenGuard,
    AccessTokenStrategy,
    AccessTokenExceptionFilter,
    { provide: APP_FILTER, useExisting: AccessTokenExceptionFilter },
  ],
  exports: [
    RESOURCE_SERVER_OPTIONS,
    AccessTokenVerifier,
    AccessTokenAuthenticationService,
    AccessTokenGuard,
    AccessTokenExceptionFilter,
  ],
})
export class ResourceServerModule extends ResourceServerConfigurableModule {}
