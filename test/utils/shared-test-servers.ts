/**
 * Several reference-server instances in one test process, as a scaled-out deployment runs them:
 * each its own Nest application (own caches, own replay store connection) on its own loopback
 * port, sharing one PostgreSQL database — or, for Redis tests, each on its own SQLite database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientRegistryService } from 'nestjs-client-auth';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/app-config.js';
import { type CreatedTestDatabase, createTestDatabase } from './database.js';
import { TEST_ISSUER, type TestServer } from './test-server.js';

/** Where the instances keep their registry. */
export type SharedStorage =
  /** One fresh PostgreSQL database shared by every instance (needs `TEST_DATABASE_URL`). */
  | 'shared-postgres'
  /** A fresh SQLite database per instance: nothing shared but what the environment names. */
  | 'separate-sqlite';

/** Instances started by {@link startTestServers}. */
export interface TestServerGroup {
  readonly servers: readonly TestServer[];
  /** Closes every instance, then drops the databases. */
  close(): Promise<void>;
}

/** The admin token every instance is configured with. */
export const SHARED_ADMIN_TOKEN = 'admin-token-for-multi-instance-tests';

/**
 * Starts `count` reference servers exactly as `main.ts` does, one after the other (so only the
 * first runs the migrations and generates the server keys, as a rolling start would), each on an
 * ephemeral loopback port with its own data directory. `env` applies to all of them (e.g.
 * `REDIS_URL`); they share `SECRET_ENCRYPTION_KEY` and `ADMIN_TOKEN`.
 */
export async function startTestServers(
  count: number,
  storage: SharedStorage,
  env: Record<string, string> = {},
): Promise<TestServerGroup> {
  const databases: CreatedTestDatabase[] = [];
  const servers: TestServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((server) => server.close()));
    await Promise.all(databases.map((database) => database.drop()));
  };
  try {
    const shared = storage === 'shared-postgres' ? await createTestDatabase('postgres') : undefined;
    if (shared) databases.push(shared);
    for (let i = 0; i < count; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), `client-auth-instance-${i}-`));
      const config = loadConfig({
        ISSUER: TEST_ISSUER,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'error',
        JWKS_REFRESH_COOLDOWN: '0',
        ADMIN_TOKEN: SHARED_ADMIN_TOKEN,
        SECRET_ENCRYPTION_KEY: 'c'.repeat(64),
        ...(shared?.url && { DATABASE_URL: shared.url }),
        ...env,
      });
      const app = await createApp(config, { logger: false });
      await app.listen(0, '127.0.0.1');
      const address = app.getHttpServer().address() as { port: number };
      servers.push({
        app,
        url: `http://127.0.0.1:${address.port}`,
        config,
        registry: app.get(ClientRegistryService),
        async close() {
          await app.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      });
    }
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { servers, close };
}
