import { DiscoveryError } from '../outgoing/outgoing-errors.js';
import {
  BodyTooLargeError,
  discardBody,
  isTimeoutError,
  readBodyCapped,
  timeoutSignal,
  urlProblem,
  type FetchFunction,
} from './http.js';

/** Authorization server metadata (RFC 8414 §2); only the members the token client uses are typed. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly jwks_uri?: string;
  readonly grant_types_supported?: readonly string[];
  readonly token_endpoint_auth_methods_supported?: readonly string[];
  readonly token_endpoint_auth_signing_alg_values_supported?: readonly string[];
  readonly [member: string]: unknown;
}

/** Options of {@link discoverAuthorizationServer}. */
export interface DiscoveryOptions {
  /** Default: the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** Per-request timeout, in ms. Default 10000. */
  readonly timeoutMs?: number;
  /** Accept a plain-http `token_endpoint` on a non-loopback host. Default false. */
  readonly allowInsecureHttp?: boolean;
  /** Aborts the discovery. */
  readonly signal?: AbortSignal;
}

/** Largest metadata document read, in bytes. */
const MAX_METADATA_BYTES = 256 * 1024;

/**
 * The metadata URLs of an issuer, in the order they are tried:
 * 1. RFC 8414 §3.1 — `/.well-known/oauth-authorization-server` inserted between the host and the
 *    issuer's path (a terminating `/` of the path removed first);
 * 2. OpenID Connect Discovery 1.0 §4 — `/.well-known/openid-configuration` appended to the
 *    issuer.
 */
export function discoveryUrls(issuer: string): [string, string] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Validates a metadata document for `issuer` (RFC 8414 §3.2–3.3): a JSON object whose `issuer`
 * is identical to the one configured — otherwise the document must not be used — and whose
 * `token_endpoint` is a URL credentials may be sent to. Returns the problem, or undefined.
 */
export function metadataProblem(
  document: unknown,
  issuer: string,
  allowInsecureHttp: boolean,
): string | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return 'the metadata is not a JSON object';
  }
  const metadata = document as Record<string, unknown>;
  if (metadata.issuer !== issuer) {
    return `the metadata names issuer ${JSON.stringify(String(metadata.issuer).slice(0, 200))}, not ${JSON.stringify(issuer)} (RFC 8414 §3.3)`;
  }
  const problem = urlProblem(metadata.token_endpoint, allowInsecureHttp);
  if (problem) return `token_endpoint ${problem}`;
  return undefined;
}

/**
 * Discovers an authorization server's metadata (RFC 8414, then OpenID Connect Discovery): tries
 * each URL of {@link discoveryUrls} and returns the first valid document for `issuer`.
 *
 * Throws `DiscoveryError`; its `transient` flag is set when no document was obtained and at
 * least one URL failed with a network error, a timeout, 429 or 5xx (worth retrying), and clear
 * when the server answered but published no usable metadata.
 *
 * @example
 * ```ts
 * const metadata = await discoverAuthorizationServer('https://auth.example.com');
 * metadata.token_endpoint; // 'https://auth.example.com/oauth/token'
 * ```
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: DiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  const problems: string[] = [];
  let transient = false;
  let lastStatus: number | undefined;
  let lastCause: unknown;

  for (const url of discoveryUrls(issuer)) {
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: timeoutSignal(timeoutMs, options.signal),
      });
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      transient = true;
      lastCause = cause;
      problems.push(`${url}: ${isTimeoutError(cause) ? 'timed out' : 'unreachable'}`);
      continue;
    }
    lastStatus = response.status;
    if (response.status !== 200) {
      await discardBody(response);
      if (response.status === 429 || response.status >= 500) transient = true;
      problems.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    let document: unknown;
    try {
      document = JSON.parse(await readBodyCapped(response, MAX_METADATA_BYTES));
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      if (isTimeoutError(cause)) transient = true;
      lastCause = cause;
      problems.push(
        `${url}: ${cause instanceof BodyTooLargeError ? cause.message : isTimeoutError(cause) ? 'timed out' : 'not JSON'}`,
      );
      continue;
    }
    const problem = metadataProblem(document, issuer, allowInsecureHttp);
    if (problem) {
      problems.push(`${url}: ${problem}`);
      continue;
    }
    return document as AuthorizationServerMetadata;
  }
  throw new DiscoveryError(issuer, `no usable metadata for ${issuer} (${problems.join('; ')})`, {
    status: lastStatus,
    transient,
    cause: lastCause,
  });
}
