/** Injection token of the ops module's configuration (`OpsConfig`). */
export const OPS_CONFIG = Symbol('OpsConfig');

/** Injection token of the Redis connection the readiness check pings (absent without `REDIS_URL`). */
export const HEALTH_REDIS = Symbol('HealthRedis');

/** What the reference server's ops endpoints need from the configuration. */
export interface OpsConfig {
  /** Bearer token for `/metrics`; undefined = open. */
  readonly metricsToken?: string;
  /** Whether readiness pings Redis (`REDIS_URL` set). */
  readonly redis: boolean;
}
