/**
 * The floor of the benchmark (issue 8): a bare `node:http` token endpoint doing, per request,
 * only what the same answer cannot do without — read the body, parse the form, verify the
 * client assertion's signature and sign an access token with the built library's calls — so
 * that the run measures how much of the crypto limit Node's HTTP stack alone leaves on the
 * pinned core.
 *
 * THIS IS NOT AN OAUTH SERVER. It has no replay protection (a `jti` may be used any number of
 * times), checks no claim beyond the signature (no `iss`, `aud`, `exp`, `iat`, `jti`, `typ` or
 * header `alg` check, no assertion lifetime cap), has no client registry (the clients are fixed
 * at start-up, the `jwks_uri` client's key included: nothing is fetched), no database, no
 * logging, no metrics and no rate limit. It answers only the benchmark's own requests and
 * listens on 127.0.0.1. It is the ceiling of "Node HTTP + the same cryptography" on the server
 * core, a yardstick for the reference server, never something to deploy.
 *
 * Per request: read the body (at most 64 KiB), `node:querystring` parse, require
 * `grant_type=client_credentials` and the RFC 7523 §2.2 assertion type, split
 * `client_assertion`, decode its payload to find the client (`sub`, RFC 7523 §3), verify the
 * signature with `verifyJwsSignature` and the key prepared at start-up (`publicKeyObject` /
 * `hmacKeyObject`, as bench/lib/crypto-limit.mjs does), sign an RFC 9068 access token with
 * `signAccessToken` (same claims and key as the reference server: `iss` = `aud` = the issuer,
 * `sub` = `client_id` = the client, its TTL) and answer RFC 6749 §5.1 JSON with
 * `Cache-Control: no-store`. Any failure answers 400 (`invalid_request`,
 * `unsupported_grant_type`) or 401 (`invalid_client`) JSON, never echoing the assertion.
 *
 * Usage: `node bench/floor-server.mjs <config.json>`, where the file holds
 * `{ port, issuer, signingJwk, accessTokenTtlSeconds?, clients: [{ clientId, alg, publicJwk? ,
 * secret? }] }` (a public JWK, or the `client_secret_jwt` secret for HS*). Ready when
 * `GET /ready` answers 200.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importJWK } from 'jose';

/** RFC 7523 §2.2 `client_assertion_type`. */
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Largest request body read; anything longer is refused. */
const MAX_BODY_BYTES = 64 * 1024;
const TOKEN_PATH = '/oauth/token';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// The built library of the server under test (`libraryEntry`), default ../dist.
const lib = await import(
  pathToFileURL(
    config.libraryEntry ??
      join(dirname(fileURLToPath(import.meta.url)), '../dist/libs/client-auth/src/index.js'),
  ).href
);

// ---- start-up: every key prepared once, as warm caches hold them in the reference server
const serverKey = {
  alg: config.signingJwk.alg,
  kid: config.signingJwk.kid,
  privateKey: await importJWK(config.signingJwk, config.signingJwk.alg),
};
const ttlSeconds = config.accessTokenTtlSeconds ?? 300;
/** client_id → `{ alg, key }`. */
const clients = new Map(
  config.clients.map((client) => [
    client.clientId,
    {
      alg: client.alg,
      key: /^HS\d+$/.test(client.alg)
        ? lib.hmacKeyObject({}, client.secret, client.alg)
        : lib.publicKeyObject(client.publicJwk, client.alg),
    },
  ]),
);

const JSON_HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  pragma: 'no-cache',
};

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The RFC 6749 §5.2 error answer. */
function refuse(res, status, error, description) {
  answer(res, status, { error, error_description: description });
}

/**
 * The client and the checked assertion of a form, or a refusal `[status, error, description]`.
 * Only the signature is checked (see the header of this file).
 */
function authenticate(form) {
  if (form.grant_type !== 'client_credentials') {
    return [400, 'unsupported_grant_type', 'only client_credentials is served'];
  }
  const assertion = form.client_assertion;
  if (form.client_assertion_type !== ASSERTION_TYPE || typeof assertion !== 'string') {
    return [400, 'invalid_request', 'one client_assertion of the jwt-bearer type is required'];
  }
  const first = assertion.indexOf('.');
  const last = assertion.lastIndexOf('.');
  if (first <= 0 || last <= first || assertion.indexOf('.', first + 1) !== last) {
    return [401, 'invalid_client', 'the client assertion is not a compact JWS'];
  }
  let clientId;
  try {
    const payload = JSON.parse(
      Buffer.from(assertion.slice(first + 1, last), 'base64url').toString('utf8'),
    );
    clientId = payload.sub;
  } catch {
    return [401, 'invalid_client', 'the client assertion payload is not JSON'];
  }
  const client = typeof clientId === 'string' ? clients.get(clientId) : undefined;
  if (!client) return [401, 'invalid_client', 'unknown client'];
  const valid = lib.verifyJwsSignature(
    client.alg,
    client.key,
    Buffer.from(assertion.slice(0, last), 'ascii'),
    Buffer.from(assertion.slice(last + 1), 'base64url'),
  );
  return valid ? clientId : [401, 'invalid_client', 'the client assertion signature is invalid'];
}

async function issue(res, text) {
  const outcome = authenticate(parseForm(text));
  if (Array.isArray(outcome)) {
    refuse(res, ...outcome);
    return;
  }
  const issued = await lib.signAccessToken(serverKey, {
    issuer: config.issuer,
    clientId: outcome,
    subject: outcome,
    audience: config.issuer,
    ttlSeconds,
  });
  answer(res, 200, {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
  });
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/ready') {
    answer(res, 200, { ready: true });
    return;
  }
  if (req.method !== 'POST' || req.url !== TOKEN_PATH) {
    refuse(res, 404, 'not_found', 'only POST /oauth/token is served');
    return;
  }
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('end', () => {
    if (tooLarge) {
      refuse(res, 400, 'invalid_request', 'the request body is too large');
      return;
    }
    issue(res, Buffer.concat(chunks, size).toString('utf8')).catch(() => {
      if (!res.headersSent) refuse(res, 500, 'server_error', 'the access token was not signed');
      else res.destroy();
    });
  });
});
server.listen(config.port, '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
