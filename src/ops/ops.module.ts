import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import {
  ClientAuthHealthIndicator,
  ClientAuthMetricsModule,
  ClientAuthRateLimitModule,
} from 'nestjs-client-auth';
import type { AppConfig } from '../config/app-config.js';
import { HealthController } from './health.controller.js';
import { healthRedisProvider } from './health-redis.provider.js';
import { MetricsController } from './metrics.controller.js';
import { OPS_CONFIG, type OpsConfig } from './ops.constants.js';

/**
 * Operations of the reference server (SPEC S10, docs/operations.md): `/health/live`,
 * `/health/ready`, Prometheus `/metrics`, and the rate limits of the token and registration
 * endpoints. Import it once in the root module.
 */
@Module({})
export class OpsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const opsConfig: OpsConfig = {
      ...(config.metricsToken && { metricsToken: config.metricsToken }),
      redis: config.redisUrl !== undefined,
    };
    return {
      module: OpsModule,
      imports: [
        // Readiness answers 503 `shutting_down` from SIGTERM until the listener closes.
        TerminusModule.forRoot({
          gracefulShutdownTimeoutMs: config.shutdownDelayMs,
          logger: false,
        }),
        ClientAuthMetricsModule.forRoot({ defaultMetrics: true }),
        ClientAuthRateLimitModule.forRoot({
          token: {
            perClient: config.rateLimits.tokenPerClient,
            perAddress: config.rateLimits.tokenPerIp,
          },
          registration: { perAddress: config.rateLimits.registerPerIp },
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: OPS_CONFIG, useValue: opsConfig },
        ClientAuthHealthIndicator,
        ...(config.redisUrl ? [healthRedisProvider(config.redisUrl)] : []),
      ],
    };
  }
}
