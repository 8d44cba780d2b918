import type { OnApplicationShutdown, Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import { HEALTH_REDIS } from './ops.constants.js';

/** A Redis connection used only by the readiness check, closed at shutdown. */
export class HealthRedisConnection implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(url: string) {
    // Fail fast and keep reconnecting: a PING while Redis is down fails at once (readiness says
    // `down`), and readiness recovers by itself when Redis returns.
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: 1000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    // Connection errors are reported by the readiness check; never crash or spam the log.
    this.client.on('error', () => undefined);
    this.client.connect().catch(() => undefined);
  }

  /** `PING`, for `ClientAuthHealthIndicator.redis()`. */
  ping(): Promise<string> {
    return this.client.ping();
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

/** Provides {@link HealthRedisConnection} for `url`. */
export function healthRedisProvider(url: string): Provider {
  return { provide: HEALTH_REDIS, useFactory: () => new HealthRedisConnection(url) };
}
