/**
 * One-command demo of the outgoing side (`npm run example:outgoing`):
 *
 * 1. starts the reference server on an embedded SQLite database in a temporary directory;
 * 2. registers a `private_key_jwt` client with the `reports:read` scope, its private key
 *    written to a file;
 * 3. starts the example app, whose `GET /report` calls the reference server's protected
 *    `GET /api/reports` (SPEC S8) through `HttpService` with a bearer token obtained by the
 *    library, twice (the second call reuses the cached token);
 * 4. replaces the server's signing keys at once (a restart with new `SIGNING_KEYS`, as after a
 *    key compromise), so the cached token no longer verifies: the API answers 401 and the HTTP
 *    integration drops the token, obtains a new one and retries (RFC 6750 §3.1).
 *
 * Only token ids (`jti`) are printed, never a token. Everything stops afterwards unless
 * `KEEP_RUNNING=1`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt, type JWK } from 'jose';
import { ClientRegistryService, TokenClientRegistry } from 'nestjs-client-auth';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/app-config.js';
import { createOutgoingExampleApp } from './app.module.js';
import { loadExampleConfig } from './config.js';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const dir = mkdtempSync(join(tmpdir(), 'outgoing-demo-'));
const port = await freePort();
const issuer = `http://127.0.0.1:${port}`;
/** Encrypts the server's stored keys; the same one across the restart below. */
const secretEncryptionKey = randomBytes(32).toString('hex');

/** The reference server on `port`, its database in `dir` (kept across restarts). */
async function startReferenceServer(env: Record<string, string> = {}): Promise<INestApplication> {
  const app = await createApp(
    loadConfig({
      ISSUER: issuer,
      DATA_DIR: dir,
      LOG_LEVEL: 'error',
      SECRET_ENCRYPTION_KEY: secretEncryptionKey,
      ...env,
    }),
    { logger: ['error'] },
  );
  await app.listen(port, '127.0.0.1');
  return app;
}

// 1. The authorization server and protected API (the project's reference server).
let server = await startReferenceServer();

// 2. A client with a key pair; the private key goes to a file the example app reads.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyFile = join(dir, 'reporting-key.pem');
writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
await server.get(ClientRegistryService).createClient({
  clientId: 'reporting',
  tokenEndpointAuthMethod: 'private_key_jwt',
  jwks: {
    keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'reporting-1', alg: 'ES256' }],
  },
  scope: 'reports:read',
});

// 3. The example app, configured exactly as main.ts is, from environment variables; the
//    token endpoint is discovered from the issuer and TARGET_URL defaults to /api/reports.
const exampleConfig = loadExampleConfig({
  ISSUER: issuer,
  CLIENT_ID: 'reporting',
  PRIVATE_KEY_FILE: keyFile,
  KEY_ID: 'reporting-1',
  SCOPE: 'reports:read',
});
const example = await createOutgoingExampleApp(exampleConfig, { logger: false });
await example.listen(0, '127.0.0.1');
const exampleUrl = `http://127.0.0.1:${(example.getHttpServer().address() as { port: number }).port}`;
const tokens = example.get(TokenClientRegistry).get('reporting');
/** The `jti` of the token the HTTP integration currently attaches (same cache entry). */
const currentJti = async () => decodeJwt(await tokens.getAccessToken()).jti;

/** Calls the example's `GET /report`; `full` prints the whole answer, else its status and client. */
const report = async (full = false) => {
  const res = await fetch(`${exampleUrl}/report`);
  const body = (await res.json()) as { body?: { requested_by?: string } };
  return full
    ? `${res.status} ${JSON.stringify(body)}`
    : `${res.status} (requested_by ${body.body?.requested_by ?? '-'})`;
};

console.warn(`reference server  ${issuer} (protected route ${exampleConfig.targetUrl})`);
console.warn(`example app       ${exampleUrl}/report`);
console.warn(`GET /report → ${await report(true)}`);
const before = await currentJti();
console.warn(`GET /report → ${await report()}`);
console.warn(`token cached by the client: jti=${before}, still jti=${await currentJti()}`);

// 4. Emergency key replacement: the server restarts with a new signing key only, so tokens
//    signed by the previous keys fail verification (no grace period, unlike a rotation).
const oldToken = await tokens.getAccessToken();
await server.close();
const replacement = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
server = await startReferenceServer({
  SIGNING_KEYS: JSON.stringify({
    keys: [{ ...replacement.export({ format: 'jwk' }), kid: 'replacement-1', alg: 'ES256' }],
  }),
});
const refused = await fetch(exampleConfig.targetUrl, {
  headers: { authorization: `Bearer ${oldToken}` },
});
await refused.body?.cancel();
console.warn(
  `\nserver keys replaced; the cached token is now refused: ${refused.status} ` +
    `${refused.headers.get('www-authenticate')}`,
);
console.warn(`GET /report → ${await report()}`);
console.warn(
  `the refused token was dropped and the call retried with a new one: jti=${await currentJti()}`,
);

if (process.env.KEEP_RUNNING === '1') {
  console.warn('KEEP_RUNNING=1: press Ctrl-C to stop');
} else {
  await example.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
