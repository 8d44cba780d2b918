import { Injectable, Logger } from '@nestjs/common';
import { AccessTokenError } from '../../core/access-token/access-token-error.js';
import { AccessTokenVerifier } from '../../core/access-token/access-token-verifier.js';
import { extractBearerToken } from '../../core/access-token/bearer-token.js';
import { requireScopes } from '../../core/access-token/scopes.js';
import type { VerifiedAccessToken } from '../../core/access-token/verify-access-token.js';
import { DependencyUnavailableError } from '../../core/errors.js';
import { type HttpReplyLike, type HttpRequestLike, nodeRequest } from '../http-platform.js';
import { requestIdOf } from '../request-id.js';
import {
  BEARER_REALM,
  DEFAULT_BEARER_REALM,
  VERIFIED_ACCESS_TOKEN,
} from './resource-server.constants.js';
import { InjectResourceServerOptions } from './resource-server.decorators.js';
import type { ResourceServerModuleOptions } from './resource-server.options.js';

/** A request (Express or Fastify) after access token verification. */
export type AccessTokenAuthenticatedRequest = HttpRequestLike & {
  [VERIFIED_ACCESS_TOKEN]?: VerifiedAccessToken;
  /** The realm of the challenge, recorded for whichever exception filter answers a refusal. */
  [BEARER_REALM]?: string;
};

/**
 * Verifies the bearer token of an HTTP request with the framework-free `AccessTokenVerifier`
 * (SPEC S8) and keeps the result on the request, so a second guard (the Passport strategy, then
 * `AccessTokenGuard` for scopes) does not verify it again. Used by `AccessTokenGuard` and the
 * `oauth-access-token` strategy; inject it to verify by hand.
 */
@Injectable()
export class AccessTokenAuthenticationService {
  private readonly logger = new Logger('ResourceServer');

  constructor(
    @InjectResourceServerOptions() private readonly options: ResourceServerModuleOptions,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  /**
   * The verified access token of `req`: taken from the `Authorization: Bearer` header only
   * (RFC 6750 §2.1), verified once per request. With `res`, the request id is echoed on the
   * response (`X-Request-Id`), success or not.
   *
   * @throws AccessTokenError when the token is missing or refused; DependencyUnavailableError
   *   when the issuer's keys or the introspection endpoint cannot be reached.
   */
  async authenticate(req: HttpRequestLike, res?: HttpReplyLike): Promise<VerifiedAccessToken> {
    if (res !== undefined) requestIdOf(req, res, this.options.trustRequestIdHeader ?? true);
    const holder = req as AccessTokenAuthenticatedRequest;
    holder[BEARER_REALM] = this.options.realm ?? DEFAULT_BEARER_REALM;
    const known = holder[VERIFIED_ACCESS_TOKEN];
    if (known) return known;
    try {
      const token = extractBearerToken(
        {
          // Every Authorization header sent, so a duplicate is refused instead of Node keeping
          // the first.
          authorization:
            nodeRequest(req).headersDistinct?.authorization ?? req.headers.authorization,
          url: req.originalUrl ?? req.url,
          ...(isForm(req) && { formBody: req.body as unknown }),
        },
        { maxTokenBytes: this.verifier.validation.maxTokenBytes },
      );
      const verified = await this.verifier.verify(token);
      holder[VERIFIED_ACCESS_TOKEN] = verified;
      return verified;
    } catch (error) {
      this.report(req, error);
      throw error;
    }
  }

  /**
   * Checks that the request's verified token carries every scope of `required` (SPEC S8).
   *
   * @throws AccessTokenError `scope_insufficient` (403 `insufficient_scope`).
   */
  requireScopes(
    req: HttpRequestLike,
    token: VerifiedAccessToken,
    required: readonly string[],
  ): void {
    (req as AccessTokenAuthenticatedRequest)[BEARER_REALM] =
      this.options.realm ?? DEFAULT_BEARER_REALM;
    try {
      requireScopes(token, required);
    } catch (error) {
      this.report(req, error, token);
      throw error;
    }
  }

  /** The token verified for `req`, if any. */
  verifiedToken(req: HttpRequestLike): VerifiedAccessToken | undefined {
    return (req as AccessTokenAuthenticatedRequest)[VERIFIED_ACCESS_TOKEN];
  }

  /** Logs a refusal by reason code and request id; never the token. */
  private report(req: HttpRequestLike, error: unknown, token?: VerifiedAccessToken): void {
    const requestId = requestIdOf(req, undefined, this.options.trustRequestIdHeader ?? true);
    if (error instanceof AccessTokenError) {
      const line = `access token refused: reason=${error.reason} client=${token?.clientId ?? '-'} request=${requestId} detail=${error.detail}`;
      // A request without a token is routine (the challenge asks for one): not a warning.
      if (error.reason === 'token_missing') this.logger.debug(line);
      else this.logger.warn(line);
    } else if (error instanceof DependencyUnavailableError) {
      const cause = (error.cause as Error | undefined)?.message ?? 'unknown';
      this.logger.error(`${error.dependency} unavailable: ${cause} request=${requestId}`);
    }
  }
}

function isForm(req: HttpRequestLike): boolean {
  const type = req.headers['content-type'];
  return (
    typeof type === 'string' &&
    type.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded'
  );
}
