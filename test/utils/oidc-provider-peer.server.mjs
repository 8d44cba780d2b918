// The oidc-provider test peer, run in a child process by oidc-provider-peer.ts so that it is an
// independent server in its own Node realm. Reads its configuration as JSON from stdin, listens
// on an ephemeral loopback port, prints `LISTENING <issuer>`, then one `EVENT <json>` line per
// grant outcome.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { clients, signingJwk, algorithms, ttlSeconds } = JSON.parse(
  Buffer.concat(chunks).toString(),
);

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    ...client,
  })),
  // The peer's own token signing key, so that it does not fall back to a development keystore.
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['interop-test-cookie-key'] },
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  clientAuthMethods: [
    'private_key_jwt',
    'client_secret_jwt',
    'client_secret_basic',
    'client_secret_post',
  ],
  enabledJWA: { clientAuthSigningAlgValues: algorithms },
  scopes: ['api:read', 'api:write'],
  ttl: { ClientCredentials: ttlSeconds },
});
const report = (event) => process.stdout.write(`EVENT ${JSON.stringify(event)}\n`);
provider.on('grant.success', (ctx) =>
  report({ name: 'grant.success', clientId: ctx.oidc?.client?.clientId }),
);
provider.on('grant.error', (_ctx, error) =>
  report({ name: 'grant.error', error: String(error?.message ?? error) }),
);
server.on('request', provider.callback());
process.stdout.write(`LISTENING ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
