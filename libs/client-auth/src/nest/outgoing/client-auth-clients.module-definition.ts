import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import type { TokenClientOptions } from '../../core/token-client/token-client.types.js';
import { CLIENT_AUTH_CLIENTS_OPTIONS_TOKEN } from './client-auth-clients.constants.js';
import { TokenClientRegistry } from './token-client.registry.js';
import { getTokenClientToken } from './token-client.decorators.js';

/** Options of `ClientAuthClientsModule.forRoot` / `forRootAsync` (SPEC S7). */
export interface ClientAuthClientsModuleOptions {
  /** Token clients by name; each is injectable with `@InjectTokenClient(name)`. */
  readonly clients: Readonly<Record<string, TokenClientOptions>>;
}

/** Extra options of `forRoot` / `forRootAsync` that shape the module rather than configure it. */
export interface ClientAuthClientsModuleExtras {
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
  /**
   * Names to register `@InjectTokenClient(name)` providers for. `forRoot` takes them from
   * `clients`; `forRootAsync` cannot see its options before they are built, so list them here
   * (every client stays reachable through `TokenClientRegistry.get(name)` regardless).
   */
  clientNames?: readonly string[];
}

function namedClientProviders(names: readonly string[]): Provider[] {
  return names.map((name) => ({
    provide: getTokenClientToken(name),
    inject: [TokenClientRegistry],
    useFactory: (registry: TokenClientRegistry) => registry.get(name),
  }));
}

/**
 * `forRoot` / `forRootAsync` of `ClientAuthClientsModule` (ConfigurableModuleBuilder), with the
 * `isGlobal` and `clientNames` extras; `CLIENT_AUTH_CLIENTS_OPTIONS` injects the options.
 */
export const {
  ConfigurableModuleClass: ClientAuthClientsConfigurableModule,
  MODULE_OPTIONS_TOKEN: CLIENT_AUTH_CLIENTS_OPTIONS,
  OPTIONS_TYPE: CLIENT_AUTH_CLIENTS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CLIENT_AUTH_CLIENTS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ClientAuthClientsModuleOptions>({
  moduleName: 'ClientAuthClients',
  optionsInjectionToken: CLIENT_AUTH_CLIENTS_OPTIONS_TOKEN,
})
  .setClassMethodName('forRoot')
  .setExtras<ClientAuthClientsModuleExtras>(
    { isGlobal: false, clientNames: [] },
    (definition, extras) => {
      const names = [...new Set(extras.clientNames ?? [])];
      return {
        ...definition,
        global: extras.isGlobal,
        providers: [...(definition.providers ?? []), ...namedClientProviders(names)],
        exports: [...(definition.exports ?? []), ...names.map(getTokenClientToken)],
      };
    },
  )
  .build();
