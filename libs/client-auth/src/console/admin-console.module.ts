import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AdminStatsController } from '../http/admin-stats.controller.js';
import { AdminConsoleController } from './admin-console.controller.js';
import { ADMIN_CONSOLE_OPTIONS, type AdminConsoleOptions } from './admin-console.options.js';

/**
 * The optional admin console (SPEC S3): a page at `/admin/console` for operators, built on the
 * admin REST API, plus `GET /admin/stats/overview` and `GET /admin/stats/authentications` that
 * its overview draws. Needs `ClientRegistryModule` and `ClientRegistryApiModule` (whose admin
 * guard — `ADMIN_TOKEN` or the host's guard — protects every data request); the page itself is
 * static and carries no data. See docs/console.md.
 *
 * @example
 * ```ts
 * imports: [
 *   ClientRegistryModule.forRoot({ secretEncryptionKey }),
 *   ClientRegistryApiModule.forRoot({ baseUrl, admin: { token: process.env.ADMIN_TOKEN } }),
 *   AdminConsoleModule.forRoot(),
 * ]
 * ```
 */
@Module({})
export class AdminConsoleModule {
  static forRoot(options: AdminConsoleOptions = {}): DynamicModule {
    const controllers: Type[] = [AdminConsoleController];
    if (options.stats !== false) controllers.push(AdminStatsController);
    return {
      module: AdminConsoleModule,
      controllers,
      providers: [{ provide: ADMIN_CONSOLE_OPTIONS, useValue: options }],
    };
  }
}
