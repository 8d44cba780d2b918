/**
 * Errors of remote key set admission, fetching and validation (SPEC S3 `jwks_uri`, S6).
 *
 * Every error carries a stable `reason` and a message safe to log or show to the registering
 * client: it names the origin and the rule, never credentials, a private key or a resolved
 * address of a host that is not allow-listed.
 */

/** Why a `jwks_uri` was refused before any connection was made (SPEC S3). */
export type JwksUriRejectionReason =
  /** Not an absolute http(s) URL, too long, or holding control characters. */
  | 'invalid_uri'
  /** Not `https:` (plain `http:` only for allow-listed hosts). */
  | 'scheme_not_https'
  /** The URL carries a user name or password. */
  | 'credentials_in_uri'
  /** The URL carries a fragment. */
  | 'fragment_in_uri'
  /** An IPv4 literal written in a non-canonical form (decimal, octal, hex, short, dotted tail). */
  | 'non_canonical_ip'
  /** The host is, or resolves to, an address that is not public. */
  | 'address_not_public'
  /** The host is a cloud metadata service (by name or address). */
  | 'metadata_host';

/** Every reason a remote key set could not be obtained (SPEC S6). */
export type JwksFetchReason =
  | JwksUriRejectionReason
  /** The server answered 3xx; redirects are never followed. */
  | 'redirect_refused'
  /** The server answered a status other than 200. */
  | 'http_status'
  /** The response is not JSON (`application/json`, `application/jwk-set+json`, `…+json`). */
  | 'media_type'
  /** The body exceeds the size cap. */
  | 'too_large'
  /** Resolution, connection, headers and body together exceeded the time cap. */
  | 'timeout'
  /** DNS or transport failure (including TLS certificate errors). */
  | 'network'
  /** The body is not valid UTF-8 JSON. */
  | 'invalid_json'
  /** The JSON is not an acceptable JWK Set. */
  | 'invalid_jwks';

/**
 * A remote key set could not be admitted, fetched or validated. `reason` is stable and suitable
 * for metrics; `message` is safe to log.
 *
 * @example
 * ```ts
 * try {
 *   await fetcher.fetch(uri);
 * } catch (error) {
 *   if (error instanceof JwksFetchError) metrics.inc({ reason: error.reason });
 * }
 * ```
 */
export class JwksFetchError extends Error {
  /** The stable reason code. */
  readonly reason: JwksFetchReason;

  constructor(reason: JwksFetchReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
  }
}

/**
 * A `jwks_uri` refused by the SSRF policy (SPEC S3): its text, its host name or the addresses it
 * resolves to. A subclass of {@link JwksFetchError}, so one `catch` handles every failure.
 */
export class JwksUriRejectedError extends JwksFetchError {
  declare readonly reason: JwksUriRejectionReason;
  /** The class of the refused address, when an address was refused. */
  readonly addressClass?: string;

  constructor(
    reason: JwksUriRejectionReason,
    message: string,
    options?: { cause?: unknown; addressClass?: string },
  ) {
    super(reason, message, options);
    if (options?.addressClass !== undefined) this.addressClass = options.addressClass;
  }
}

/**
 * A JWK Set that is not acceptable (RFC 7517 §5, SPEC S3): the message says what is wrong and,
 * for a key, which one (`keys[2] (kid "a"): RSA modulus is 1024 bits; …`).
 */
export class InvalidJwksError extends JwksFetchError {
  declare readonly reason: 'invalid_jwks';
  /** Index in `keys` of the offending key, when one key is at fault. */
  readonly keyIndex?: number;
  /** The problem without the key prefix, for callers that build their own messages. */
  readonly problem: string;

  /**
   * @param problem what is wrong, e.g. `RSA modulus is 1024 bits; at least 2048 are required`.
   * @param key the offending key, when one is at fault: its index in `keys` (absent for a lone
   *   key) and its `kid`.
   */
  constructor(problem: string, key?: { readonly index?: number; readonly kid?: string }) {
    let where = '';
    if (key) {
      where = key.index === undefined ? 'key' : `keys[${key.index}]`;
      if (key.kid !== undefined) where += ` (kid ${quoteKid(key.kid)})`;
      where += ': ';
    }
    super('invalid_jwks', `${where}${problem}`);
    this.problem = problem;
    if (key?.index !== undefined) this.keyIndex = key.index;
  }
}

function quoteKid(kid: string): string {
  return JSON.stringify(kid.length > 64 ? `${kid.slice(0, 64)}…` : kid);
}
