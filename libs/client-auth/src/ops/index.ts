/** Operations (SPEC S10): Prometheus metrics, readiness checks, rate limits. */
export {
  AUTH_DURATION_BUCKETS,
  ClientAuthMetrics,
  HTTP_DURATION_BUCKETS,
} from './metrics/client-auth-metrics.js';
export type {
  ClientAuthMetricsOptions,
  HttpRequestObservation,
  JwksStatsSource,
  RateLimitScope,
} from './metrics/client-auth-metrics.js';
export {
  CLIENT_AUTH_METRICS_OPTIONS,
  ClientAuthMetricsModule,
  countIssuedTokens,
} from './metrics/client-auth-metrics.module.js';
export type { ClientAuthMetricsModuleOptions } from './metrics/client-auth-metrics.module.js';
export { HttpMetricsMiddleware } from './metrics/http-metrics.middleware.js';
export {
  ClientAuthHealthIndicator,
  HEALTH_CHECK_TIMEOUT_MS,
  pingDependency,
} from './health/client-auth-health.indicator.js';
export type { DependencyHealth, RedisPingable } from './health/client-auth-health.indicator.js';
export { TOKEN_BUCKET_DEFAULTS, TokenBucketLimiter } from './rate-limit/token-bucket-limiter.js';
export type {
  RateLimitDecision,
  TokenBucketLimiterOptions,
} from './rate-limit/token-bucket-limiter.js';
export { RateLimitExceededError } from './rate-limit/rate-limit-exceeded.error.js';
export {
  addressBucketKey,
  claimedClientId,
  ClientAuthRateLimiter,
} from './rate-limit/client-auth-rate-limiter.js';
export type { RateLimitedEndpoint } from './rate-limit/client-auth-rate-limiter.js';
export {
  ClientAuthRateLimitGuard,
  ClientAuthRateLimitInterceptor,
} from './rate-limit/client-auth-rate-limit.guard.js';
export { ClientAuthRateLimitModule } from './rate-limit/client-auth-rate-limit.module.js';
export { CLIENT_AUTH_RATE_LIMIT_OPTIONS } from './rate-limit/rate-limit.options.js';
export type {
  ClientAuthRateLimitOptions,
  EndpointRateLimits,
} from './rate-limit/rate-limit.options.js';
