import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ClientRegistryService } from 'nestjs-client-auth';
import { createApp } from '../../src/bootstrap.js';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';
import { createTestDatabase, type TestDatabaseKind } from './database.js';

/** The issuer every test server is configured with (independent of the port it listens on). */
export const TEST_ISSUER = 'https://as.example.test';
export const TEST_TOKEN_ENDPOINT = `${TEST_ISSUER}/oauth/token`;

/** A running reference server on loopback with its own fresh database. */
export interface TestServer {
  readonly app: INestApplication;
  /** Base URL the server listens on (`http://127.0.0.1:<port>`). */
  readonly url: string;
  readonly config: AppConfig;
  readonly registry: ClientRegistryService;
  close(): Promise<void>;
}

/** Database kinds to run end-to-end suites against: SQLite always, PostgreSQL when configured. */
export const TEST_DATABASES: TestDatabaseKind[] = process.env.TEST_DATABASE_URL
  ? ['sqlite', 'postgres']
  : ['sqlite'];

/**
 * Starts the reference server exactly as `main.ts` does (same body parsing and filters), with
 * environment overrides, on an ephemeral loopback port and a fresh database of `kind`.
 */
export async function startTestServer(
  kind: TestDatabaseKind = 'sqlite',
  env: Record<string, string> = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'client-auth-e2e-'));
  const database = await createTestDatabase(kind);
  const config = loadConfig({
    ISSUER: TEST_ISSUER,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'error',
    JWKS_REFRESH_COOLDOWN: '0',
    ...(database.url ? { DATABASE_URL: database.url, SECRET_ENCRYPTION_KEY: 'b'.repeat(64) } : {}),
    ...env,
  });
  const app = await createApp(config, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    config,
    registry: app.get(ClientRegistryService),
    async close() {
      await app.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
