import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { AccessTokenService } from '../../http/server/access-token.service.js';
import { CLIENT_AUTH_OBSERVER, CLIENT_KEY_SETS } from '../../nest/client-auth.constants.js';
import {
  ClientAuthMetrics,
  type ClientAuthMetricsOptions,
  type JwksStatsSource,
} from './client-auth-metrics.js';
import { fastifyHttpMetricsHook, HttpMetricsMiddleware } from './http-metrics.middleware.js';

/** Options of `ClientAuthMetricsModule.forRoot()`. */
export interface ClientAuthMetricsModuleOptions extends ClientAuthMetricsOptions {
  /** Use this instance (and its registry) instead of building one from the options. */
  readonly metrics?: ClientAuthMetrics;
  /**
   * Time every HTTP request of the application (Express: a middleware on all routes; Fastify: an
   * `onResponse` hook). Default true.
   */
  readonly httpMetrics?: boolean;
  /** Expose the counters of the `jwks_uri` key set cache (`CLIENT_KEY_SETS`). Default true. */
  readonly jwksCache?: boolean;
  /** Count the access tokens `AccessTokenService` (`OAuthServerModule`) issues. Default true. */
  readonly tokens?: boolean;
}

/** Injection token of the {@link ClientAuthMetricsModuleOptions}. */
export const CLIENT_AUTH_METRICS_OPTIONS = Symbol('ClientAuthMetricsOptions');

const INSTRUMENTED = Symbol('ClientAuthMetricsInstrumented');

/**
 * Counts the access tokens a token service issues, by wrapping its `issue` method on the
 * instance (once; later calls are no-ops). Only issued tokens are counted: a failed signing is not.
 */
export function countIssuedTokens(
  service: { issue: (...args: never[]) => Promise<unknown> },
  metrics: ClientAuthMetrics,
): void {
  const marked = service as { [INSTRUMENTED]?: boolean };
  if (marked[INSTRUMENTED]) return;
  marked[INSTRUMENTED] = true;
  const issue = service.issue.bind(service) as (...args: unknown[]) => Promise<unknown>;
  (service as { issue: (...args: unknown[]) => Promise<unknown> }).issue = async (...args) => {
    const issued = await issue(...args);
    metrics.tokenIssued();
    return issued;
  };
}

/**
 * Prometheus metrics for client authentication (SPEC S10), registered globally: provides
 * {@link ClientAuthMetrics} and binds its observer to `CLIENT_AUTH_OBSERVER`, so
 * `ClientAuthModule` reports every authentication outcome to it; times every HTTP request; reads
 * the `jwks_uri` cache counters; counts issued access tokens. Serving the metrics is left to the
 * application (see the example), so it decides the path and who may read them.
 *
 * @example
 * ```ts
 * @Controller()
 * class MetricsController {
 *   constructor(private readonly metrics: ClientAuthMetrics) {}
 *   @Get('metrics')
 *   async scrape(@Res() res: HttpReplyLike) {
 *     res.header('Content-Type', this.metrics.contentType);
 *     res.send(await this.metrics.metrics());
 *   }
 * }
 *
 * @Module({
 *   imports: [ClientAuthMetricsModule.forRoot({ defaultMetrics: true }), ClientAuthModule.forRoot(...)],
 *   controllers: [MetricsController],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class ClientAuthMetricsModule implements NestModule, OnModuleInit {
  constructor(
    private readonly metrics: ClientAuthMetrics,
    private readonly moduleRef: ModuleRef,
    @Inject(CLIENT_AUTH_METRICS_OPTIONS) private readonly options: ClientAuthMetricsModuleOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Registers the metrics globally; see the class description. */
  static forRoot(options: ClientAuthMetricsModuleOptions = {}): DynamicModule {
    return {
      module: ClientAuthMetricsModule,
      global: true,
      providers: [
        { provide: CLIENT_AUTH_METRICS_OPTIONS, useValue: options },
        {
          provide: ClientAuthMetrics,
          useFactory: () => options.metrics ?? new ClientAuthMetrics(options),
        },
        {
          provide: CLIENT_AUTH_OBSERVER,
          inject: [ClientAuthMetrics],
          useFactory: (metrics: ClientAuthMetrics) => metrics.observer,
        },
        HttpMetricsMiddleware,
      ],
      exports: [ClientAuthMetrics, CLIENT_AUTH_OBSERVER],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    if (this.options.httpMetrics === false) return;
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() === 'fastify') {
      // Fastify: one onResponse hook, which also sees 404s and body-parser refusals.
      const fastify = adapter.getInstance<{ addHook(name: 'onResponse', hook: unknown): void }>();
      fastify.addHook('onResponse', fastifyHttpMetricsHook(this.metrics));
      return;
    }
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }

  onModuleInit(): void {
    if (this.options.jwksCache !== false) {
      const keySets = this.#find<Partial<JwksStatsSource>>(CLIENT_KEY_SETS);
      if (typeof keySets?.stats === 'function') {
        this.metrics.watchJwksCache(keySets as JwksStatsSource);
      }
    }
    if (this.options.tokens !== false) {
      const tokens = this.#find<AccessTokenService>(AccessTokenService);
      if (tokens) countIssuedTokens(tokens, this.metrics);
    }
  }

  /** A provider from anywhere in the application, or undefined when it is not there. */
  #find<T>(token: symbol | (abstract new (...args: never[]) => unknown)): T | undefined {
    try {
      return this.moduleRef.get<T>(token as symbol, { strict: false });
    } catch {
      return undefined;
    }
  }
}
