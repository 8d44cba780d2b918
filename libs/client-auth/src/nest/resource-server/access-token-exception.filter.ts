import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import { AccessTokenError } from '../../core/access-token/access-token-error.js';
import { DependencyUnavailableError } from '../../core/errors.js';
import type { HttpReplyLike, HttpRequestLike } from '../http-platform.js';
import { writeOAuthError } from '../oauth-exception.filter.js';
import { requestIdOf } from '../request-id.js';
import { writeAccessTokenError } from './write-access-token-error.js';
import { DEFAULT_BEARER_REALM } from './resource-server.constants.js';
import { RESOURCE_SERVER_OPTIONS } from './resource-server.module-definition.js';
import type { ResourceServerModuleOptions } from './resource-server.options.js';

/**
 * Answers `AccessTokenError`s (see `writeAccessTokenError`) and outages of the issuer's keys or
 * introspection endpoint (503 `temporarily_unavailable`, logged). Registered globally by
 * `ResourceServerModule`; the library's `OAuthExceptionFilter` and `OAuthEndpointExceptionFilter`
 * answer access token errors the same way. An application whose own catch-all filter is
 * registered with `app.useGlobalFilters()` (which Nest consults first) binds this one on its
 * protected controllers: `@UseFilters(AccessTokenExceptionFilter)`.
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
    const req = http.getRequest<HttpRequestLike>();
    const res = http.getResponse<HttpReplyLike>();
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
