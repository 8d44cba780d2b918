/**
 * Client keys and client assertions for the benchmark. Assertions are pre-generated (each `jti`
 * used once) with node:crypto in worker threads, so generation is fast and never runs while a
 * server is being measured. The JWS is the one RFC 7523 §3 describes and the library's signer
 * produces: header `{alg, kid, typ: client-authentication+jwt}`, claims `iss` = `sub` =
 * client_id, `aud` = issuer, `jti`, `iat`, `exp`.
 */
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** RFC 7523 §2.2 `client_assertion_type`. */
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Assertion lifetime: the reference server's default cap (SPEC S2.6, 300 s). */
export const ASSERTION_LIFETIME_SECONDS = 300;

const FORM_PREFIX = `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(ASSERTION_TYPE)}&client_assertion=`;

/**
 * A fresh signing key for `alg` as private and public JWKs (`kid`, `alg` and `use` set).
 * @param {'ES256' | 'RS256' | 'EdDSA'} alg
 */
export function generateClientKey(alg, kid = randomBytes(6).toString('hex')) {
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateJwk, publicJwk: publicJwkOf(privateJwk) };
}

/** The public members of a private JWK (RFC 7518 §6, RFC 8037 §2). */
export function publicJwkOf(jwk) {
  const copy = { ...jwk };
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) delete copy[member];
  return copy;
}

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Returns a function signing assertions for one client: `(jti, iat) => compact JWS`.
 * @param {{ alg: string, kid?: string, privateJwk?: object, secret?: string, clientId: string, audience: string }} spec
 */
export function assertionSigner(spec) {
  const header = b64({
    alg: spec.alg,
    ...(spec.kid ? { kid: spec.kid } : {}),
    typ: 'client-authentication+jwt',
  });
  let signBytes;
  if (spec.alg === 'HS256') {
    const secret = Buffer.from(spec.secret, 'utf8');
    signBytes = (data) => createHmac('sha256', secret).update(data).digest();
  } else {
    const key = createPrivateKey({ key: spec.privateJwk, format: 'jwk' });
    if (spec.alg === 'ES256') {
      signBytes = (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    } else if (spec.alg === 'RS256') {
      signBytes = (data) => sign('sha256', data, key);
    } else if (spec.alg === 'EdDSA') {
      signBytes = (data) => sign(null, data, key);
    } else {
      throw new Error(`unsupported alg ${spec.alg}`);
    }
  }
  return (jti, iat) => {
    const payload = b64({
      iss: spec.clientId,
      sub: spec.clientId,
      aud: spec.audience,
      jti,
      iat,
      exp: iat + ASSERTION_LIFETIME_SECONDS,
    });
    const input = `${header}.${payload}`;
    return `${input}.${signBytes(Buffer.from(input)).toString('base64url')}`;
  };
}

/** The form body of a `client_credentials` token request authenticated by `assertion`. */
export function tokenRequestBody(assertion) {
  // A compact JWS holds only base64url characters and dots: no percent-encoding needed.
  return FORM_PREFIX + assertion;
}

/** The assertion a {@link tokenRequestBody} carries. */
export function assertionOfBody(body) {
  return body.slice(FORM_PREFIX.length);
}

/**
 * Signs `count` assertions with unique `jti`s (128 random bits each), in worker threads across
 * the CPUs this process may use. Resolves the token request bodies.
 */
export async function generateRequestBodies(spec, count, threads = availableParallelism()) {
  const iat = Math.floor(Date.now() / 1000);
  const parts = Math.max(1, Math.min(threads, Math.ceil(count / 2000)));
  const per = Math.ceil(count / parts);
  const chunks = await Promise.all(
    Array.from({ length: parts }, (_, i) => {
      const n = Math.min(per, count - i * per);
      return n <= 0 ? [] : runWorker({ spec, count: n, iat });
    }),
  );
  return chunks.flat();
}

function runWorker(job) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./assertion-worker.mjs', import.meta.url), {
      workerData: job,
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`assertion worker exited with ${code}`));
    });
  });
}
