import type { HttpModuleOptions, HttpService } from '@nestjs/axios';
import {
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { attachTokenClient, type AxiosTokenOptions } from './axios-token.interceptor.js';
import { TokenClientRegistry } from './token-client.registry.js';

/** Options of `ClientAuthHttpModule.register`. */
export interface ClientAuthHttpModuleOptions extends AxiosTokenOptions {
  /** Name of the token client (registered by `ClientAuthClientsModule`) whose tokens are attached. */
  readonly client: string;
  /** Options of the module's own axios instance (`baseURL`, `timeout`, …). */
  readonly http?: HttpModuleOptions;
}

const INSTALLER = Symbol('ClientAuthHttpInstaller');

/** Attaches the interceptors when the module starts and removes them when it stops. */
class TokenInterceptorInstaller implements OnModuleInit, OnModuleDestroy {
  #detach: (() => void) | undefined;

  constructor(
    private readonly options: ClientAuthHttpModuleOptions,
    private readonly http: HttpService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    // The registry may live in any module (global or imported elsewhere): look it up app-wide.
    const registry = this.moduleRef.get(TokenClientRegistry, { strict: false });
    this.#detach = attachTokenClient(
      this.http.axiosRef,
      registry.get(this.options.client),
      this.options,
    );
  }

  onModuleDestroy(): void {
    this.#detach?.();
  }
}

/**
 * `@nestjs/axios` for protected APIs (SPEC S7): provides an `HttpService` of its own whose
 * requests carry `Authorization: Bearer …` from the named token client and are retried once,
 * with a new token, after a 401. Needs `ClientAuthClientsModule` in the application.
 *
 * `@nestjs/axios` and `axios` are optional peer dependencies: they are loaded when `register()`
 * is called, so applications that do not use this module need not install them.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     ClientAuthClientsModule.forRoot({ clients: { billing: { ... } } }),
 *     ClientAuthHttpModule.register({ client: 'billing', http: { baseURL: 'https://api.example.com' } }),
 *   ],
 *   providers: [InvoicesService], // injects HttpService
 * })
 * export class InvoicesModule {}
 * ```
 */
@Module({})
export class ClientAuthHttpModule {
  /** A module exporting an `HttpService` authorised by the token client `options.client`. */
  static async register(options: ClientAuthHttpModuleOptions): Promise<DynamicModule> {
    const { HttpModule, HttpService: HttpServiceClass } = await import('@nestjs/axios');
    return {
      module: ClientAuthHttpModule,
      imports: [HttpModule.register(options.http ?? {})],
      providers: [
        {
          provide: INSTALLER,
          inject: [HttpServiceClass, ModuleRef],
          useFactory: (http: HttpService, moduleRef: ModuleRef) =>
            new TokenInterceptorInstaller(options, http, moduleRef),
        },
      ],
      exports: [HttpModule],
    };
  }
}
