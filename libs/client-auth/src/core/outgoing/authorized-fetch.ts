import type { FetchFunction } from '../token-client/http.js';
import type { AccessTokenSource, TokenRequest } from '../token-client/token-client.types.js';

/** Options of {@link createAuthorizedFetch}. */
export interface AuthorizedFetchOptions {
  /** The fetch that sends the API requests. Default: the global `fetch`. */
  readonly fetch?: FetchFunction;
  /** Scope, resource or audience of the token to attach (the token client's defaults otherwise). */
  readonly token?: Omit<TokenRequest, 'forceRefresh' | 'signal'>;
  /** On a 401, drop the token and retry once with a new one. Default true. */
  readonly retryOnUnauthorized?: boolean;
}

/**
 * A `fetch` that calls protected APIs with a token from `tokens` (SPEC S7): every request gets
 * `Authorization: Bearer <access token>` (RFC 6750 §2.1, replacing any Authorization header);
 * when the API answers 401, the token is dropped from the cache and the request is sent once
 * more with a newly obtained token. The second answer is returned whatever it is.
 *
 * A request body is buffered (`Request.clone()`) so it can be sent twice; the first 401
 * response's body is discarded.
 *
 * @example
 * ```ts
 * const apiFetch = createAuthorizedFetch(tokenClient, { token: { scope: 'invoices:read' } });
 * const res = await apiFetch('https://api.example.com/invoices');
 * ```
 */
export function createAuthorizedFetch(
  tokens: AccessTokenSource,
  options: AuthorizedFetchOptions = {},
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const send = options.fetch ?? globalThis.fetch;
  const retry = options.retryOnUnauthorized ?? true;
  const tokenRequest = options.token ?? {};

  return async (input, init) => {
    const request = new Request(input, init);
    const spare = retry ? request.clone() : undefined;
    const signal = init?.signal ?? request.signal;
    const first = await tokens.getToken({ ...tokenRequest, signal });
    request.headers.set('authorization', `Bearer ${first.accessToken}`);
    const response = await send(request);
    if (response.status !== 401 || !spare) return response;

    // RFC 6750 §3.1: 401 means the token was not accepted (revoked, rotated keys, expired early).
    await response.body?.cancel().catch(() => undefined);
    tokens.invalidate(first.accessToken);
    const second = await tokens.getToken({ ...tokenRequest, signal });
    spare.headers.set('authorization', `Bearer ${second.accessToken}`);
    return send(spare);
  };
}
