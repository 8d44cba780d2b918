import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RegisteredClient } from '../../core/types.js';
import { CliFailure } from '../cli-io.js';

/** Where the registry lives: a PostgreSQL URL or a SQLite file. */
export type RegistryDatabase =
  | { readonly type: 'postgres'; readonly url: string }
  | { readonly type: 'better-sqlite3'; readonly path: string };

/**
 * Reads a `--database-url`: `postgres://` / `postgresql://` URLs are PostgreSQL; anything else
 * is the path of a SQLite file (optionally prefixed `sqlite:`), resolved by `resolve`.
 */
export function parseDatabaseUrl(
  value: string,
  resolve: (path: string) => string,
): RegistryDatabase {
  if (/^postgres(ql)?:\/\//i.test(value)) return { type: 'postgres', url: value };
  const path = value.replace(/^sqlite:(\/\/)?/i, '');
  return { type: 'better-sqlite3', path: resolve(path) };
}

/** A database location fit for messages: never the credentials of a URL. */
export function describeDatabase(database: RegistryDatabase): string {
  if (database.type === 'better-sqlite3') return database.path;
  try {
    const url = new URL(database.url);
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return 'the PostgreSQL database';
  }
}

/**
 * The secret-encryption key file the reference server generates beside its embedded database
 * (`<dataDir>/secret-encryption.key`), when it exists. Never created here.
 */
export function defaultSecretKeyFile(database: RegistryDatabase): string | undefined {
  if (database.type !== 'better-sqlite3') return undefined;
  const path = join(dirname(database.path), 'secret-encryption.key');
  return existsSync(path) ? path : undefined;
}

/** Reads a secret-encryption key file (the text the reference server writes, or 32 raw bytes). */
export async function readSecretKeyFile(path: string): Promise<string | Uint8Array> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (cause) {
    throw new CliFailure(`--secret-key-file: cannot read ${path}`, { cause });
  }
  const text = content.toString('utf8').trim();
  return /^[A-Za-z0-9_+/=-]+$/.test(text) ? text : new Uint8Array(content);
}

/**
 * Loads one client and its credentials from the registry's tables through a TypeORM
 * DataSource with the library's entities, read-only: SQLite is opened with `readonly` (the file
 * must exist), PostgreSQL sessions run with `default_transaction_read_only`. No migration runs
 * and nothing is written. `client_secret_jwt` secrets are decrypted only when `secretKey` is
 * given (else the secret is left out and the report says so).
 *
 * TypeORM, the entities and the driver are imported here, on demand, so the other commands do
 * not load them.
 */
export async function loadClientFromDatabase(
  database: RegistryDatabase,
  clientId: string,
  secretKey: string | Uint8Array | undefined,
): Promise<RegisteredClient | undefined> {
  if (database.type === 'better-sqlite3' && !existsSync(database.path)) {
    throw new CliFailure(`--database-url: no SQLite database at ${database.path}`);
  }
  const [{ DataSource }, entities, mapper, cipherModule] = await Promise.all([
    import('typeorm'),
    import('../../persistence/entities/index.js'),
    import('../../persistence/client-mapper.js'),
    import('../../persistence/secret-cipher.js'),
  ]);
  let cipher: InstanceType<typeof cipherModule.SecretCipher> | undefined;
  if (secretKey !== undefined) {
    try {
      cipher = new cipherModule.SecretCipher(secretKey);
    } catch (cause) {
      throw new CliFailure(
        'the secret encryption key is not a 32-byte key (64 hex digits, base64url or base64)',
        { cause },
      );
    }
  }
  const dataSource = new DataSource(
    database.type === 'postgres'
      ? {
          type: 'postgres',
          url: database.url,
          entities: entities.CLIENT_AUTH_ENTITIES,
          synchronize: false,
          migrationsRun: false,
          logging: false,
          extra: {
            max: 1,
            connectionTimeoutMillis: 10_000,
            options: '-c default_transaction_read_only=on',
          },
        }
      : {
          type: 'better-sqlite3',
          database: database.path,
          readonly: true,
          fileMustExist: true,
          entities: entities.CLIENT_AUTH_ENTITIES,
          synchronize: false,
          migrationsRun: false,
          logging: false,
        },
  );
  try {
    await dataSource.initialize();
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : 'connection failed';
    throw new CliFailure(`cannot open the registry at ${describeDatabase(database)}: ${why}`, {
      cause,
    });
  }
  try {
    const row = await dataSource
      .getRepository(entities.ClientEntity)
      .findOne({ where: { clientId } });
    if (!row) return undefined;
    const credentialRows = await dataSource
      .getRepository(entities.ClientCredentialEntity)
      .find({ where: { clientId } });
    let credentials;
    try {
      credentials = mapper
        .sortCredentials(credentialRows)
        .map((credential) => mapper.toClientCredential(credential, cipher));
    } catch (cause) {
      if (cause instanceof cipherModule.SecretDecryptionError) {
        throw new CliFailure(
          'the stored client secret cannot be decrypted: wrong secret encryption key',
          { cause },
        );
      }
      throw cause;
    }
    return {
      clientId: row.clientId,
      enabled: row.enabled,
      tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
      ...(row.tokenEndpointAuthSigningAlg !== null && {
        tokenEndpointAuthSigningAlg: row.tokenEndpointAuthSigningAlg,
      }),
      ...(row.jwksUri !== null && { jwksUri: row.jwksUri }),
      credentials,
      ...(row.audiencePolicy !== null && { audiencePolicy: row.audiencePolicy }),
      requireStringAudience: row.requireStringAudience,
      ...(row.maxAssertionLifetime !== null && {
        maxAssertionLifetimeSeconds: row.maxAssertionLifetime,
      }),
      ...(row.scope !== null && { scope: row.scope }),
      grantTypes: [...row.grantTypes],
      metadata: { ...row.metadata },
    };
  } catch (cause) {
    if (cause instanceof CliFailure) throw cause;
    const why = cause instanceof Error ? cause.message.split('\n')[0] : 'query failed';
    throw new CliFailure(
      `cannot read client ${JSON.stringify(clientId)} from ${describeDatabase(database)}: ${why}`,
      { cause },
    );
  } finally {
    await dataSource.destroy().catch(() => undefined);
  }
}
