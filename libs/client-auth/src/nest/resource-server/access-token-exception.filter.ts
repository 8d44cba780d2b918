import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccessTokenError } from '../../core/access-token/access-token-error.js';
import { bearerChallenge } from '../../core/access-token/bearer-token.js';
import { DependencyUnavailableError } from '../../core/errors.js';
import { writeOAuthError } from '../oauth-exception.filter.js';
import { requestIdOf } from '../request-id.js';
import { DEFAULT_BEARER_REALM } from './resource-server.constants.js';
import { RESOURCE_SERVER_OPTIONS } from './resource-server.module-definition.js';
import type { ResourceServerModuleOptions } from './resource-server.options.js';

/**
 * Writes a refused access token as RFC 6750 §3 asks: the status of its error code (401
 * `invalid_token`, 403 `insufficient_scope`, 400 `invalid_request`), `WWW-Authenticate: Bearer
 * realm="…", error="…", error_description="…"` (plus `scope="…"` for `insufficient_scope`), a
 * JSON body `{error, error_description}`, `Cache-Control: no-store` and the request id. A request
 * without a token gets `WWW-Authenticate: Bearer realm="…"` alone and an empty body (§3.1).
 *
 * @example
 * ```ts
 * if (error instanceof AccessTokenError) return writeAccessTokenError(req, res, error, 'api');
 * ```
 */
export function writeAccessTokenError(
  req: Request,
  res: Response,
  error: AccessTokenError,
  realm: string = DEFAULT_BEARER_REALM,
): void {
  requestIdOf(req, res);
  res.status(error.status);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('WWW-Authenticate', bearerChallenge(realm, error));
  if (!error.hasErrorInformation) {
    res.end();
    return;
  }
  res.json({ error: error.error, error_description: error.description });
}

/**
 * Answers `AccessTokenError`s (see {@link writeAccessTokenError}) and outages of the issuer's
 * keys or introspection endpoint (503 `temporarily_unavailable`, logged). Registered globally by
 * `ResourceServerModule`. An application that also registers a catch-all filter with
 * `app.useGlobalFilters()` (which Nest consults first) binds this one on its protected
 * controllers: `@UseFilters(AccessTokenExceptionFilter)`.
 */
@Catch(AccessTokenError, DependencyUnavailableError)
export class AccessTokenExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ResourceServer');
  private readonly realm: string;

  constructor(
    @Optional()
    @Inject(RESOURCE_SERVER_OPTIONS)
    options?: Pick<ResourceServerModuleOptions, 'realm'>,
  ) {
    this.realm = options?.realm ?? DEFAULT_BEARER_REALM;
  }

  catch(exception: AccessTokenError | DependencyUnavailableError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (exception instanceof AccessTokenError) {
      writeAccessTokenError(req, res, exception, this.realm);
      return;
    }
    this.logger.error(
      `${exception.dependency} unavailable request=${requestIdOf(req, res)}: ${describe(exception.cause)}`,
    );
    writeOAuthError(req, res, exception.status, {
      error: exception.error,
      error_description: exception.description,
    });
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause ?? 'unknown');
}
