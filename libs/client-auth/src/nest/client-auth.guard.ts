import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TokenEndpointAuthMethod } from '../core/types.js';
import { CLIENT_AUTH_METHODS_METADATA } from './client-auth.constants.js';
import { ClientAuthenticationService } from './client-authentication.service.js';
import type { HttpReplyLike, HttpRequestLike } from './http-platform.js';

/**
 * Authenticates the OAuth client of a request (SPEC S2) — no Passport knowledge needed. The
 * route's accepted methods come from `@ClientAuthMethods()`; the client is then available through
 * `@AuthenticatedClient()`. Failures are `ClientAuthError`s, written by `OAuthExceptionFilter`.
 *
 * @example
 * ```ts
 * @Post('token')
 * @UseGuards(ClientAuthGuard)
 * token(@AuthenticatedClient() client: AuthenticatedClientInfo) { ... }
 * ```
 */
@Injectable()
export class ClientAuthGuard implements CanActivate {
  constructor(
    protected readonly authentication: ClientAuthenticationService,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.authentication.authenticate(
      this.getRequest(context),
      this.getAllowedMethods(context),
      context.switchToHttp().getResponse<HttpReplyLike | undefined>(),
    );
    return true;
  }

  /** The request to authenticate. Override for non-HTTP transports. */
  protected getRequest(context: ExecutionContext): HttpRequestLike {
    return context.switchToHttp().getRequest<HttpRequestLike>();
  }

  /** The methods this route accepts; undefined means the module default. */
  protected getAllowedMethods(
    context: ExecutionContext,
  ): readonly TokenEndpointAuthMethod[] | undefined {
    return this.reflector.getAllAndOverride<TokenEndpointAuthMethod[] | undefined>(
      CLIENT_AUTH_METHODS_METADATA,
      [context.getHandler(), context.getClass()],
    );
  }
}
