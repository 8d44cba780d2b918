import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpReplyLike, HttpRequestLike } from '../http-platform.js';
import { AccessTokenAuthenticationService } from './access-token-authentication.service.js';
import { REQUIRED_SCOPES_METADATA } from './resource-server.constants.js';

/**
 * Protects a route with an OAuth access token (SPEC S8, RFC 6750): verifies the
 * `Authorization: Bearer` token (RFC 9068 JWT or introspection), then the scopes of
 * `@RequiredScopes()`. The claims are then available through `@AccessTokenClaims()`. Refusals
 * are `AccessTokenError`s, answered by `AccessTokenExceptionFilter`: 401 `invalid_token`, 403
 * `insufficient_scope`, 400 `invalid_request`, each with its `WWW-Authenticate: Bearer`
 * challenge, and a bare challenge when the request has no token.
 *
 * Behind `AuthGuard('oauth-access-token')` it reuses the token the strategy verified and only
 * checks scopes.
 *
 * @example
 * ```ts
 * @Get('reports')
 * @UseGuards(AccessTokenGuard)
 * @RequiredScopes('reports:read')
 * list(@AccessTokenClaims('client_id') clientId: string) { ... }
 * ```
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    protected readonly authentication: AccessTokenAuthenticationService,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = this.getRequest(context);
    const token = await this.authentication.authenticate(
      req,
      context.switchToHttp().getResponse<HttpReplyLike | undefined>(),
    );
    const required = this.getRequiredScopes(context);
    if (required.length > 0) this.authentication.requireScopes(req, token, required);
    return true;
  }

  /** The request to authenticate. Override for non-HTTP transports. */
  protected getRequest(context: ExecutionContext): HttpRequestLike {
    return context.switchToHttp().getRequest<HttpRequestLike>();
  }

  /** The scopes of `@RequiredScopes()` on the handler and its controller, together. */
  protected getRequiredScopes(context: ExecutionContext): readonly string[] {
    const scopes = this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    return Array.isArray(scopes) ? [...new Set(scopes)] : [];
  }
}
