/**
 * One-command demo of the outgoing side (`npm run example:outgoing`): starts the reference
 * server on an embedded SQLite database in a temporary directory, registers a `private_key_jwt`
 * client whose private key is written to a file, starts a small protected API that trusts the
 * reference server's JWKS, then starts the example app and calls its `/report` route, which
 * reaches the protected API through `HttpService` with a bearer token obtained by the library.
 * Everything stops afterwards unless `KEEP_RUNNING=1`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { ClientRegistryService } from 'nestjs-client-auth';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/app-config.js';
import { createOutgoingExampleApp } from './app.module.js';
import { startProtectedApi } from './protected-api.js';

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

// 1. The authorization server (the project's reference server).
const server = await createApp(loadConfig({ ISSUER: issuer, DATA_DIR: dir, LOG_LEVEL: 'error' }), {
  logger: ['error'],
});
await server.listen(port, '127.0.0.1');

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

// 3. The protected API.
const api = await startProtectedApi({
  issuer,
  jwksUrl: `${issuer}/oauth/jwks`,
  requiredScope: 'reports:read',
});

// 4. The example app, configured as it would be from the environment.
const example = await createOutgoingExampleApp(
  {
    port: 0,
    issuer,
    clientId: 'reporting',
    privateKeyFile: keyFile,
    keyId: 'reporting-1',
    scope: 'reports:read',
    targetUrl: `${api.url}/reports/daily`,
  },
  { logger: false },
);
await example.listen(0, '127.0.0.1');
const exampleUrl = `http://127.0.0.1:${(example.getHttpServer().address() as { port: number }).port}`;

const first = await (await fetch(`${exampleUrl}/report`)).json();
const second = await (await fetch(`${exampleUrl}/report`)).json();
console.warn(`authorization server  ${issuer}`);
console.warn(`protected API         ${api.url}/reports/daily`);
console.warn(`example app           ${exampleUrl}/report`);
console.warn(`GET /report →`, JSON.stringify(first));
console.warn(`GET /report →`, JSON.stringify(second), '(same cached token)');
console.warn(
  `tokens seen by the API: ${new Set(api.authorizations).size} for ${api.authorizations.length} calls`,
);

if (process.env.KEEP_RUNNING === '1') {
  console.warn('KEEP_RUNNING=1: press Ctrl-C to stop');
} else {
  await example.close();
  await api.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
