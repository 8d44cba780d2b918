import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedClient as AuthenticatedClientInfo } from '../core/types.js';
import {
  AUTHENTICATED_CLIENT,
  type ClientAuthenticatedRequest,
} from './client-authentication.service.js';

/**
 * Yields the client authenticated by `ClientAuthGuard` (or `AuthGuard('oauth-client')`): its id,
 * the method used, the key id, and its registered metadata.
 *
 * @example
 * ```ts
 * token(@AuthenticatedClient() client: AuthenticatedClientInfo) { return client.clientId; }
 * ```
 */
export const AuthenticatedClient = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedClientInfo | undefined => {
    const req = context
      .switchToHttp()
      .getRequest<ClientAuthenticatedRequest & { user?: unknown }>();
    return req[AUTHENTICATED_CLIENT] ?? (req.user as AuthenticatedClientInfo | undefined);
  },
);
