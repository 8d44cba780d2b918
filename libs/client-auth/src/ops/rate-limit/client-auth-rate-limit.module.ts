import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ClientAuthRateLimiter } from './client-auth-rate-limiter.js';
import {
  ClientAuthRateLimitGuard,
  ClientAuthRateLimitInterceptor,
} from './client-auth-rate-limit.guard.js';
import {
  CLIENT_AUTH_RATE_LIMIT_OPTIONS,
  type ClientAuthRateLimitOptions,
} from './rate-limit.options.js';

/**
 * Rate limits for the token endpoint (per client and per address) and dynamic registration (per
 * address), in requests per minute. A refused request gets 429 with `Retry-After` and the OAuth
 * body `{"error":"temporarily_unavailable","error_description":"too many requests; retry after
 * N seconds"}`; it changes nothing (no `jti` is consumed by an address refusal, no token issued).
 *
 * Order on the token endpoint: the address bucket is taken before authentication; a client whose
 * bucket is already empty is refused before authentication too (by the unverified id it names,
 * without taking anything); the client's bucket is taken only after it authenticated.
 *
 * Buckets live in memory, per instance, bounded by `maxTrackedKeys` per limit. With N instances
 * behind a load balancer each admits up to the limit: configure limit / N for a global figure.
 *
 * @example
 * ```ts
 * ClientAuthRateLimitModule.forRoot({
 *   token: { perClient: 600, perAddress: 1200 },
 *   registration: { perAddress: 20 },
 * })
 * ```
 */
@Module({})
export class ClientAuthRateLimitModule {
  /** Registers the limits; with every limit off, no guard or interceptor is installed. */
  static forRoot(options: ClientAuthRateLimitOptions): DynamicModule {
    const enabled = [
      options.token?.perClient,
      options.token?.perAddress,
      options.registration?.perAddress,
    ].some((limit) => (limit ?? 0) > 0);
    const providers: Provider[] = [
      { provide: CLIENT_AUTH_RATE_LIMIT_OPTIONS, useValue: options },
      ClientAuthRateLimiter,
    ];
    if (enabled) {
      providers.push(
        { provide: APP_GUARD, useClass: ClientAuthRateLimitGuard },
        { provide: APP_INTERCEPTOR, useClass: ClientAuthRateLimitInterceptor },
      );
    }
    return { module: ClientAuthRateLimitModule, providers, exports: [ClientAuthRateLimiter] };
  }
}
