/**
 * A local workload-token issuer for federated credential tests (SPEC S9): a real HTTP server on
 * 127.0.0.1 that publishes its own discovery documents (OpenID Connect Discovery §4 and RFC 8414
 * §3) and JWKS, and mints Kubernetes-style service-account tokens signed with its key — the
 * tokens a kubelet projects into a pod (`iss`, `sub: system:serviceaccount:<ns>:<name>`, `aud`
 * array, `exp`, `iat`, `nbf`, `jti`, the `kubernetes.io` claims), plus a flat `namespace` claim
 * usable as a required claim.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { generateTestKey, type TestKeyPair } from './assertions.js';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
  type RecordedRequest,
} from './loopback-http.js';

/** Options of {@link startTestIssuer}. */
export interface TestIssuerOptions {
  /** Signing algorithm of the issuer's key. Default `RS256` (what Kubernetes uses). */
  readonly alg?: string;
  /**
   * Path of the issuer identifier (`/id/cluster-a` gives `http://127.0.0.1:<port>/id/cluster-a`),
   * as cloud-hosted clusters have. Default none.
   */
  readonly path?: string;
  /** Which discovery documents are served. Default `openid`. */
  readonly discovery?: 'openid' | 'oauth' | 'both' | 'none';
}

/** What a minted service-account token says; every field has a realistic default. */
export interface ServiceAccountTokenOptions {
  /** Default `payments`. */
  readonly namespace?: string;
  /** Default `billing`. */
  readonly serviceAccount?: string;
  /** The token audiences (always sent as an array, as Kubernetes does). Required. */
  readonly audience: string | readonly string[];
  /** `exp − iat`. Default 3600 (a projected token's default `expirationSeconds`). */
  readonly lifetimeSeconds?: number;
  /** `iat` and `nbf`, epoch seconds. Default now. */
  readonly issuedAt?: number;
  /** Another `iss` than the issuer's own (to forge a token claiming someone else's issuer). */
  readonly iss?: string;
  /** Another `sub` than the service account's. */
  readonly sub?: string;
  /** Default a random UUID, as the API server generates. */
  readonly jti?: string;
  /** Sign with this key instead of the issuer's current one. */
  readonly key?: TestKeyPair;
  /** The header `kid`: the signing key's by default; `null` sends none. */
  readonly kid?: string | null;
  /** Extra claims, merged last (overriding defaults). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Claims to leave out (e.g. `exp`, `jti`, `namespace`). */
  readonly omit?: readonly string[];
}

/** A running test issuer. */
export interface TestIssuer {
  /** The issuer identifier (`iss`), without a trailing slash. */
  readonly issuer: string;
  /** Where its JWKS is served. */
  readonly jwksUri: string;
  /** The key that signs its tokens now. */
  readonly key: TestKeyPair;
  /** Every request the issuer's server received (discovery, JWKS). */
  readonly requests: RecordedRequest[];
  /**
   * Members replacing those of the discovery documents (e.g. `{ jwks_uri: 'https://10.0.0.7/keys' }`);
   * `undefined` restores the defaults.
   */
  discoveryOverrides: Record<string, unknown> | undefined;
  /** Generates a new signing key; the JWKS then serves it, plus the old one when `keepOld`. */
  rotateKey(keepOld?: boolean): Promise<TestKeyPair>;
  /** Mints a Kubernetes-style service-account token. */
  mint(options: ServiceAccountTokenOptions): Promise<string>;
  /** How many requests asked for `path` (exact match of path and query). */
  count(path: string): number;
  close(): Promise<void>;
}

/** The Kubernetes service-account subject (`system:serviceaccount:<namespace>:<name>`). */
export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** Starts a test issuer on an ephemeral loopback port. */
export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const alg = options.alg ?? 'RS256';
  const path = (options.path ?? '').replace(/\/+$/, '');
  const discovery = options.discovery ?? 'openid';
  let keys: TestKeyPair[] = [await generateTestKey(alg)];
  const state: { overrides: Record<string, unknown> | undefined } = { overrides: undefined };
  // The handler needs the URLs, which are known once the server listens.
  const urls = { issuer: '', jwksUri: '' };

  const server: LoopbackServer = await startLoopbackServer((request, response) => {
    const requested = request.url.split('?')[0];
    const document = () => ({
      issuer: urls.issuer,
      jwks_uri: urls.jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [alg],
      ...state.overrides,
    });
    if (
      requested === `${path}/.well-known/openid-configuration` &&
      (discovery === 'openid' || discovery === 'both')
    ) {
      return sendJson(response, 200, document());
    }
    if (
      requested === `/.well-known/oauth-authorization-server${path}` &&
      (discovery === 'oauth' || discovery === 'both')
    ) {
      return sendJson(response, 200, document());
    }
    if (requested === `${path}/openid/v1/jwks`) {
      return sendJson(
        response,
        200,
        { keys: keys.map((key) => key.publicJwk) },
        { 'cache-control': 'max-age=60' },
      );
    }
    return sendJson(response, 404, { error: 'not_found' });
  });
  urls.issuer = `${server.url}${path}`;
  urls.jwksUri = `${server.url}${path}/openid/v1/jwks`;

  return {
    issuer: urls.issuer,
    jwksUri: urls.jwksUri,
    get key() {
      return keys[0]!;
    },
    requests: server.requests,
    get discoveryOverrides() {
      return state.overrides;
    },
    set discoveryOverrides(value: Record<string, unknown> | undefined) {
      state.overrides = value;
    },
    async rotateKey(keepOld = false) {
      const next = await generateTestKey(alg);
      keys = keepOld ? [next, ...keys] : [next];
      return next;
    },
    async mint(token: ServiceAccountTokenOptions) {
      const key = token.key ?? keys[0]!;
      const namespace = token.namespace ?? 'payments';
      const name = token.serviceAccount ?? 'billing';
      const iat = token.issuedAt ?? Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: token.iss ?? urls.issuer,
        sub: token.sub ?? serviceAccountSubject(namespace, name),
        aud: typeof token.audience === 'string' ? [token.audience] : [...token.audience],
        exp: iat + (token.lifetimeSeconds ?? 3600),
        iat,
        nbf: iat,
        jti: token.jti ?? randomUUID(),
        'kubernetes.io': {
          namespace,
          node: { name: 'node-1', uid: randomUUID() },
          pod: { name: `${name}-7d9f8c6b5-x2x4q`, uid: randomUUID() },
          serviceaccount: { name, uid: randomUUID() },
        },
        namespace,
        ...token.claims,
      };
      for (const omitted of token.omit ?? []) delete claims[omitted];
      const kid = token.kid === undefined ? key.kid : token.kid;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, ...(kid !== null && { kid }) })
        .sign(key.privateKey);
    },
    count(requestPath: string) {
      return server.requests.filter((request) => request.url === requestPath).length;
    },
    close: () => server.close(),
  };
}
