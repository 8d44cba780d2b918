import { AccessTokenError } from '../../core/access-token/access-token-error.js';
import { bearerChallenge } from '../../core/access-token/bearer-token.js';
import { type HttpReplyLike, type HttpRequestLike, sendReply } from '../http-platform.js';
import { requestIdOf } from '../request-id.js';
import { BEARER_REALM, DEFAULT_BEARER_REALM } from './resource-server.constants.js';

/**
 * Writes a refused access token as RFC 6750 §3 asks: the status of its error code (401
 * `invalid_token`, 403 `insufficient_scope`, 400 `invalid_request`), `WWW-Authenticate: Bearer
 * realm="…", error="…", error_description="…"` (plus `scope="…"` for `insufficient_scope`), a
 * JSON body `{error, error_description}`, `Cache-Control: no-store` and the request id. A request
 * without a token gets `WWW-Authenticate: Bearer realm="…"` alone and an empty body (§3.1).
 *
 * The realm is the one the guard recorded on the request, else `realm`, else `api`.
 *
 * @example
 * ```ts
 * if (error instanceof AccessTokenError) return writeAccessTokenError(req, res, error);
 * ```
 */
export function writeAccessTokenError(
  req: HttpRequestLike,
  res: HttpReplyLike,
  error: AccessTokenError,
  realm?: string,
): void {
  const recorded = (req as unknown as Record<string, unknown>)[BEARER_REALM];
  const effectiveRealm =
    (typeof recorded === 'string' ? recorded : undefined) ?? realm ?? DEFAULT_BEARER_REALM;
  requestIdOf(req, res);
  sendReply(
    res,
    error.status,
    {
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'WWW-Authenticate': bearerChallenge(effectiveRealm, error),
    },
    error.hasErrorInformation
      ? { error: error.error, error_description: error.description }
      : undefined,
  );
}
