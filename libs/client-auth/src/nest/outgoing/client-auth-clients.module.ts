import { Module, type DynamicModule } from '@nestjs/common';
import { ClientAssertionSignerService } from './client-assertion-signer.service.js';
import {
  ClientAuthClientsConfigurableModule,
  type CLIENT_AUTH_CLIENTS_OPTIONS_TYPE,
} from './client-auth-clients.module-definition.js';
import { TokenClientRegistry } from './token-client.registry.js';

/**
 * The outgoing side for Nest applications (SPEC S7): named token clients, each injectable with
 * `@InjectTokenClient(name)`, the `TokenClientRegistry` and `ClientAssertionSignerService`.
 * Pair it with `ClientAuthHttpModule` (for `HttpService`) or `createAuthorizedFetch()`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ClientAuthClientsModule.forRoot({
 *       isGlobal: true,
 *       clients: {
 *         billing: {
 *           clientId: 'billing',
 *           issuer: 'https://auth.example.com',
 *           signingKey: { file: '/etc/billing/key.pem', kid: 'billing-1' },
 *           scope: 'invoices:read',
 *         },
 *       },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [TokenClientRegistry, ClientAssertionSignerService],
  exports: [TokenClientRegistry, ClientAssertionSignerService],
})
export class ClientAuthClientsModule extends ClientAuthClientsConfigurableModule {
  /** Registers the clients of `options.clients`, each injectable by its name. */
  static override forRoot(options: typeof CLIENT_AUTH_CLIENTS_OPTIONS_TYPE): DynamicModule {
    return super.forRoot({
      ...options,
      clientNames: options.clientNames ?? Object.keys(options.clients ?? {}),
    });
  }
}
