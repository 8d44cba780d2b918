import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { AdminAccessGuard, AdminTokenGuard } from './admin.guard.js';
import { AdminClientsController } from './admin-clients.controller.js';
import { AdminRegistryController } from './admin-registry.controller.js';
import {
  ADMIN_ACCESS_GUARD,
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from './client-registry-api.options.js';
import { RegistrationController } from './registration.controller.js';

/**
 * The HTTP face of the client registry (SPEC S3): RFC 7591 registration and RFC 7592
 * management at `/oauth/register`, and the admin REST API at `/admin`. Needs
 * `ClientRegistryModule` (which provides `ClientRegistryService`).
 *
 * @example
 * ```ts
 * imports: [
 *   ClientRegistryModule.forRoot({ secretEncryptionKey, jwks: { allowHosts: [] } }),
 *   ClientRegistryApiModule.forRoot({
 *     baseUrl: 'https://as.example.com',
 *     registration: { initialAccessToken: process.env.INITIAL_ACCESS_TOKEN },
 *     admin: { token: process.env.ADMIN_TOKEN },   // or { guard: MyAdminGuard }
 *   }),
 * ]
 * ```
 */
@Module({})
export class ClientRegistryApiModule {
  static forRoot(options: ClientRegistryApiOptions): DynamicModule {
    const controllers: Type[] = [];
    if (options.registration?.enabled !== false) controllers.push(RegistrationController);
    if (options.admin?.enabled !== false) {
      controllers.push(AdminClientsController, AdminRegistryController);
    }
    const providers: Provider[] = [
      { provide: CLIENT_REGISTRY_API_OPTIONS, useValue: options },
      { provide: ADMIN_ACCESS_GUARD, useClass: options.admin?.guard ?? AdminTokenGuard },
      AdminAccessGuard,
    ];
    return {
      module: ClientRegistryApiModule,
      // Global so the server module's admin routes share the admin guard and options.
      global: true,
      controllers,
      providers,
      exports: [CLIENT_REGISTRY_API_OPTIONS, ADMIN_ACCESS_GUARD, AdminAccessGuard],
    };
  }
}
