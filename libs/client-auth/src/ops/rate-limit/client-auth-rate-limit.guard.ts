import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { HttpRequestLike, HttpReplyLike } from '../../nest/http-platform.js';
import type { Observable } from 'rxjs';
import { RegistrationController } from '../../http/registration.controller.js';
import { TokenController } from '../../http/server/token.controller.js';
import {
  AUTHENTICATED_CLIENT,
  type ClientAuthenticatedRequest,
} from '../../nest/client-authentication.service.js';
import { ClientAuthRateLimiter, type RateLimitedEndpoint } from './client-auth-rate-limiter.js';

/** Which rate-limited endpoint a handler belongs to, if any. */
function endpointOf(context: ExecutionContext): RateLimitedEndpoint | undefined {
  if (context.getType() !== 'http') return undefined;
  const controller = context.getClass();
  if (controller === TokenController) return 'token';
  if (controller === RegistrationController) return 'registration';
  return undefined;
}

/**
 * Global guard of `ClientAuthRateLimitModule`: runs before the endpoint's own guards, so a
 * flood from one address is refused before any client lookup or signature check. Only the token
 * and registration endpoints are limited.
 */
@Injectable()
export class ClientAuthRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: ClientAuthRateLimiter) {}

  canActivate(context: ExecutionContext): boolean {
    const endpoint = endpointOf(context);
    if (endpoint === undefined) return true;
    const http = context.switchToHttp();
    this.limiter.beforeAuthentication(
      endpoint,
      http.getRequest<HttpRequestLike>(),
      http.getResponse<HttpReplyLike>(),
    );
    return true;
  }
}

/**
 * Global interceptor of `ClientAuthRateLimitModule`: interceptors run after every guard, so on
 * the token endpoint the client is authenticated by now and only its own successful requests
 * take from its bucket — no one else can spend a client's budget by naming it.
 */
@Injectable()
export class ClientAuthRateLimitInterceptor implements NestInterceptor {
  constructor(private readonly limiter: ClientAuthRateLimiter) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (endpointOf(context) === 'token') {
      const http = context.switchToHttp();
      const client = http.getRequest<ClientAuthenticatedRequest>()[AUTHENTICATED_CLIENT];
      if (client)
        this.limiter.afterAuthentication(client.clientId, http.getResponse<HttpReplyLike>());
    }
    return next.handle();
  }
}
