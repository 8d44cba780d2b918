/**
 * The peer of the benchmark (issue 8): `oidc-provider` (a dev dependency), the package a Node
 * user would pick instead, configured to do the same work per request as the reference server:
 * the `client_credentials` grant, clients authenticating with `private_key_jwt` (inline `jwks`
 * or `jwks_uri`) or `client_secret_jwt`, and RFC 9068 JWT access tokens signed ES256 (Resource
 * Indicators with `accessTokenFormat: 'jwt'` and a default resource, so no `resource`
 * parameter is needed).
 *
 * Usage: `node bench/peer-server.mjs <config.json>`, where the file holds
 * `{ issuer, port, signingJwk, clients }` (`clients` in RFC 7591 metadata form).
 *
 * Its storage is an unbounded in-memory adapter with expiry: the package's default memory
 * adapter is an LRU of about 2000 entries, which would forget used assertion `jti`s under load
 * (replays would pass); an unbounded map keeps single use honest and costs the peer nothing.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

/** `oidc-provider` adapter over one Map with per-entry expiry. */
const entries = new Map();
class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  #key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
    entries.set(this.#key(id), { payload, expiresAt });
  }

  async find(id) {
    const entry = entries.get(this.#key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(this.#key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode() {
    return undefined;
  }

  async findByUid() {
    return undefined;
  }

  async consume(id) {
    const entry = entries.get(this.#key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.#key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
  }
}

setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
}, 10_000).unref();

const provider = new Provider(config.issuer, {
  adapter: MapAdapter,
  clients: config.clients,
  jwks: { keys: [config.signingJwk] },
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    id_token_signed_response_alg: config.signingJwk.alg,
  },
  clientAuthMethods: ['private_key_jwt', 'client_secret_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['HS256', 'RS256', 'ES256', 'EdDSA'] },
  // The reference server's clock leeway (SPEC S2.6 default).
  clockTolerance: 30,
  // oidc-provider refuses special-use addresses (loopback included) when it fetches a jwks_uri.
  // Its `fetch` option is the documented hook: the benchmark's JWKS host (127.0.0.1) is exempt,
  // as JWKS_URI_ALLOW_HOSTS exempts it on the reference server; other hosts keep the check.
  fetch: (url, options) => {
    if (new URL(url).hostname !== '127.0.0.1') return globalThis.fetch(url, options);
    const { dispatcher: _ssrfGuard, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  ttl: { ClientCredentials: 300 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.issuer,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: '',
        audience: config.issuer,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: config.signingJwk.alg } },
      }),
    },
  },
});

// The first refusals are printed with oidc-provider's detail (never the assertion), so a
// misconfigured peer shows why in the benchmark's failure message.
let reported = 0;
for (const event of ['grant.error', 'server_error']) {
  provider.on(event, (_ctx, error) => {
    if (reported++ < 3) {
      const cause = error.cause?.cause ?? error.cause;
      console.error(
        `peer ${event}: ${error.message} ${error.error_description ?? ''} ${cause?.message ?? ''}`,
      );
    }
  });
}

const server = createServer(provider.callback());
server.listen(config.port, '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
