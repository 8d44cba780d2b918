/**
 * An independent authorization server for interoperability tests: `oidc-provider` (panva,
 * OpenID Certified), run in a child process on a loopback port, with the `client_credentials`
 * grant and the `private_key_jwt`, `client_secret_jwt`, `client_secret_basic` and
 * `client_secret_post` client authentication methods. It publishes OpenID discovery only
 * (`/.well-known/openid-configuration`), so clients exercise the RFC 8414 → OpenID fallback.
 *
 * A child process keeps the peer in its own Node realm: oidc-provider `structuredClone`s its
 * configuration, which inside Jest's VM context yields objects it then refuses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../../libs/client-auth/src/core/assertion/algorithms.js';
import { fixtureKey } from '../fixtures/keys/index.js';

/** Client metadata as oidc-provider reads it (RFC 7591 §2 names). */
export type PeerClientMetadata = Record<string, unknown>;

/** A grant outcome the peer reported. */
export interface PeerEvent {
  readonly name: 'grant.success' | 'grant.error';
  readonly clientId?: string;
  readonly error?: string;
}

/** A running oidc-provider. */
export interface OidcProviderPeer {
  /** Issuer identifier, `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  /** Grant outcomes reported so far. */
  readonly events: PeerEvent[];
  /** Waits until an event matching `predicate` was reported (events arrive over stdout). */
  waitForEvent(predicate: (event: PeerEvent) => boolean, timeoutMs?: number): Promise<PeerEvent>;
  close(): Promise<void>;
}

/** Lifetime of client_credentials access tokens the peer issues, in seconds. */
export const PEER_TOKEN_TTL_SECONDS = 600;

const SCRIPT = fileURLToPath(new URL('./oidc-provider-peer.server.mjs', import.meta.url));

/**
 * Starts oidc-provider with `clients` (`client_id`, `token_endpoint_auth_method`, `jwks` or
 * `client_secret`, …; `grant_types` defaults to `client_credentials`).
 */
export async function startOidcProviderPeer(
  clients: PeerClientMetadata[],
): Promise<OidcProviderPeer> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  const events: PeerEvent[] = [];
  const waiters: (() => void)[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // oidc-provider warns about the Node version and its in-memory adapter; shown only on failure.
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('LISTENING ')) resolve(line.slice('LISTENING '.length));
      else if (line.startsWith('EVENT ')) {
        events.push(JSON.parse(line.slice('EVENT '.length)) as PeerEvent);
        waiters.splice(0).forEach((wake) => wake());
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`oidc-provider peer exited with ${code}: ${stderr.slice(-2000)}`)),
    );
    child.stdin!.end(
      JSON.stringify({
        clients,
        signingJwk: { ...fixtureKey('RS256', 1).privateJwk, use: 'sig' },
        algorithms: [...PRIVATE_KEY_JWT_ALGORITHMS, ...CLIENT_SECRET_JWT_ALGORITHMS],
        ttlSeconds: PEER_TOKEN_TTL_SECONDS,
      }),
    );
  });
  return {
    issuer,
    events,
    async waitForEvent(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(predicate);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching peer event in ${JSON.stringify(events)}`);
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, left);
          waiters.push(() => {
            clearTimeout(timer);
            wake();
          });
        });
      }
    },
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
