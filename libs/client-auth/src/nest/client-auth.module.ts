import { Module, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ClientStore } from '../core/clients/client-store.interface.js';
import { InMemoryClientStore } from '../core/clients/in-memory-client-store.js';
import { JwksCache } from '../core/jwks/jwks-cache.js';
import { MemoryReplayStore } from '../core/replay/memory-replay-store.js';
import { ReplayStore } from '../core/replay/replay-store.interface.js';
import { ClientAssertionStrategy } from './client-assertion.strategy.js';
import { CLIENT_KEY_SETS } from './client-auth.constants.js';
import { ClientAuthGuard } from './client-auth.guard.js';
import {
  CLIENT_AUTH_OPTIONS,
  ClientAuthConfigurableModule,
} from './client-auth.module-definition.js';
import type { ClientAuthModuleOptions } from './client-auth.options.js';
import { ClientAuthenticationService } from './client-authentication.service.js';
import { OAuthExceptionFilter } from './oauth-exception.filter.js';

/** Store implementations are picked by factory: the one given in the options, or the default. */
const storeProviders: Provider[] = [
  {
    provide: ClientStore,
    inject: [CLIENT_AUTH_OPTIONS],
    useFactory: (options: ClientAuthModuleOptions): ClientStore =>
      options.clientStore ?? new InMemoryClientStore(options.clients ?? []),
  },
  {
    provide: ReplayStore,
    inject: [CLIENT_AUTH_OPTIONS],
    useFactory: (options: ClientAuthModuleOptions): ReplayStore =>
      options.replayStore ?? new MemoryReplayStore(),
  },
  {
    provide: CLIENT_KEY_SETS,
    inject: [CLIENT_AUTH_OPTIONS],
    useFactory: (options: ClientAuthModuleOptions) =>
      options.keySets ?? new JwksCache(jwksCacheOptions(options)),
  },
];

function jwksCacheOptions(options: ClientAuthModuleOptions) {
  const { allowHosts, timeoutMs, maxBytes, ...cache } = options.jwks ?? {};
  return { ...cache, fetch: { allowHosts, timeoutMs, maxBytes } };
}

/**
 * Incoming OAuth client authentication for NestJS (SPEC S2): `ClientAuthGuard`, the
 * `oauth-client` Passport strategy, `@AuthenticatedClient()`, and OAuth-format errors.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ClientAuthModule.forRoot({ issuer: 'https://auth.example.com', clients: [...], isGlobal: true }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [
    ...storeProviders,
    ClientAuthenticationService,
    ClientAuthGuard,
    ClientAssertionStrategy,
    { provide: APP_FILTER, useClass: OAuthExceptionFilter },
  ],
  exports: [
    ClientStore,
    ReplayStore,
    CLIENT_KEY_SETS,
    CLIENT_AUTH_OPTIONS,
    ClientAuthenticationService,
    ClientAuthGuard,
  ],
})
export class ClientAuthModule extends ClientAuthConfigurableModule {}
