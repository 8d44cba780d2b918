import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { TypeOrmClientStore } from '../persistence/typeorm-client-store.js';
import {
  CLIENT_AUTH_REDIS_OPTIONS,
  ClientAuthRedisConfigurableModule,
  type ClientAuthRedisModuleOptions,
} from './client-auth-redis.module-definition.js';
import { RedisClientInvalidationBroadcast } from './client-invalidation-broadcast.js';
import {
  closeRedis,
  createRedisConnection,
  REDIS_CONNECTION_DEFAULTS,
  type RedisConnection,
  waitForRedis,
} from './redis-connection.js';
import { RedisReplayStore } from './redis-replay-store.js';

/** Injection token of the module's Redis connection (an ioredis client). */
export const CLIENT_AUTH_REDIS = Symbol('ClientAuthRedis');

/** Injects the module's Redis connection (for health checks or further shared state). */
export const InjectClientAuthRedis = (): ParameterDecorator => Inject(CLIENT_AUTH_REDIS);

/** Default key prefix of `ClientAuthRedisModule`. */
export const DEFAULT_REDIS_KEY_PREFIX = 'client-auth:';

/** How often a persisting connection error is logged again, in ms. */
const ERROR_LOG_INTERVAL_MS = 30_000;

/** Logs connection trouble without flooding: the first error, then one every 30 s, then recovery. */
class ConnectionLog {
  readonly #logger = new Logger('ClientAuthRedis');
  #failing = false;
  #lastLogged = Number.NEGATIVE_INFINITY;

  error(error: Error): void {
    const now = Date.now();
    if (!this.#failing || now - this.#lastLogged >= ERROR_LOG_INTERVAL_MS) {
      // ioredis messages name the address and the failure, never the URL's password.
      this.#logger.warn(`Redis unavailable: ${error.message}`);
      this.#lastLogged = now;
    }
    this.#failing = true;
  }

  ready(): void {
    if (this.#failing) this.#logger.log('Redis connection restored');
    this.#failing = false;
  }
}

/** The connection the module opened, and whether it is the module's to close. */
interface OwnedConnection {
  readonly redis: RedisConnection;
  readonly owned: boolean;
}

const OWNED_CONNECTION = Symbol('ClientAuthRedisOwnedConnection');

/**
 * A second connection for the broadcast's subscription. Unlike the command connection it queues
 * its SUBSCRIBE until connected; the broadcast re-subscribes after every reconnection itself.
 */
function subscriberConnection(redis: RedisConnection): RedisConnection {
  if (redis.isCluster) {
    return (redis as Cluster).duplicate(undefined, {
      enableOfflineQueue: true,
      redisOptions: { autoResubscribe: false, maxRetriesPerRequest: null },
    });
  }
  return (redis as Redis).duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResubscribe: false,
    lazyConnect: false,
  });
}

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  readonly #logger = new Logger('ClientAuthRedis');

  constructor(
    @Inject(CLIENT_AUTH_REDIS_OPTIONS) private readonly options: ClientAuthRedisModuleOptions,
    @Inject(OWNED_CONNECTION) private readonly connection: OwnedConnection,
    @Inject(RedisClientInvalidationBroadcast)
    @Optional()
    private readonly broadcast: RedisClientInvalidationBroadcast | null,
    @Inject(TypeOrmClientStore) @Optional() private readonly clientStore?: TypeOrmClientStore,
  ) {}

  async onModuleInit(): Promise<void> {
    const wait = this.options.connectTimeoutMs ?? REDIS_CONNECTION_DEFAULTS.connectTimeoutMs;
    const ready = await waitForRedis(this.connection.redis, wait);
    if (!ready) {
      this.#logger.warn('Redis is not reachable yet: requests that need it answer 503 until it is');
    }
    if (this.broadcast && this.clientStore) {
      this.broadcast.attach(this.clientStore);
      await this.broadcast.start(ready ? wait : 0);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.broadcast) await this.broadcast.close();
    if (this.connection.owned) await closeRedis(this.connection.redis);
  }
}

/**
 * Redis for several instances (SPEC S5, S10): a {@link RedisReplayStore} shared by every instance
 * (`SET NX PX`), and — with `ClientRegistryModule` — a {@link RedisClientInvalidationBroadcast}
 * so that a registry change made through one instance is honoured by the others from their next
 * request instead of after the client cache's time-to-live.
 *
 * The connection fails fast (no offline queue, bounded command time), so a Redis outage answers
 * 503 `temporarily_unavailable` promptly and service resumes by itself once Redis is back. The
 * module is global by default, so `ClientAuthModule.forRootAsync` can inject the store.
 *
 * @example
 * ```ts
 * imports: [
 *   TypeOrmModule.forRoot({ ... }),
 *   ClientRegistryModule.forRoot({ secretEncryptionKey }),
 *   ClientAuthRedisModule.forRoot({ url: process.env.REDIS_URL!, keyPrefix: 'as1:' }),
 *   ClientAuthModule.forRootAsync({
 *     inject: [TypeOrmClientStore, RedisReplayStore],
 *     useFactory: (clientStore, replayStore) => ({ issuer, clientStore, replayStore }),
 *   }),
 * ]
 * ```
 */
@Module({
  providers: [
    {
      provide: OWNED_CONNECTION,
      inject: [CLIENT_AUTH_REDIS_OPTIONS],
      useFactory: async (options: ClientAuthRedisModuleOptions): Promise<OwnedConnection> => {
        if ((options.url === undefined) === (options.connection === undefined)) {
          throw new TypeError('ClientAuthRedisModule needs exactly one of url and connection');
        }
        if (options.connection) return { redis: options.connection, owned: false };
        const log = new ConnectionLog();
        const redis = await createRedisConnection(options.url!, {
          commandTimeoutMs: options.commandTimeoutMs,
          connectTimeoutMs: options.connectTimeoutMs,
          maxReconnectDelayMs: options.maxReconnectDelayMs,
          onError: (error) => log.error(error),
        });
        redis.on('ready', () => log.ready());
        return { redis, owned: true };
      },
    },
    {
      provide: CLIENT_AUTH_REDIS,
      inject: [OWNED_CONNECTION],
      useFactory: (connection: OwnedConnection) => connection.redis,
    },
    {
      provide: RedisReplayStore,
      inject: [CLIENT_AUTH_REDIS_OPTIONS, CLIENT_AUTH_REDIS],
      useFactory: (options: ClientAuthRedisModuleOptions, redis: RedisConnection) =>
        new RedisReplayStore(redis, {
          keyPrefix: `${options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}replay:`,
          commandTimeoutMs: options.commandTimeoutMs,
        }),
    },
    {
      provide: RedisClientInvalidationBroadcast,
      inject: [CLIENT_AUTH_REDIS_OPTIONS, CLIENT_AUTH_REDIS],
      useFactory: (options: ClientAuthRedisModuleOptions, redis: RedisConnection) => {
        if (options.broadcastClientInvalidations === false) return null;
        const log = new ConnectionLog();
        const subscriber = subscriberConnection(redis);
        subscriber.on('error', (error: Error) => log.error(error));
        subscriber.on('ready', () => log.ready());
        const broadcast = new RedisClientInvalidationBroadcast(redis, subscriber, {
          channel: `${options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}client-invalidation`,
          closeSubscriber: true,
        });
        return broadcast;
      },
    },
    RedisLifecycle,
  ],
  exports: [CLIENT_AUTH_REDIS, RedisReplayStore, RedisClientInvalidationBroadcast],
})
export class ClientAuthRedisModule extends ClientAuthRedisConfigurableModule {}
