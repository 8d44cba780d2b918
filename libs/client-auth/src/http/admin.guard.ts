import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { HttpRequestLike } from '../nest/http-platform.js';
import { firstValueFrom, isObservable } from 'rxjs';
import { OAuthError } from '../core/errors.js';
import { bearerTokenOf, invalidToken, tokensEqual } from './bearer-token.js';
import {
  ADMIN_ACCESS_GUARD,
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from './client-registry-api.options.js';

/**
 * The default admin guard: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * Without a configured token every request is refused, so the API is never open by accident.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(
    @Inject(CLIENT_REGISTRY_API_OPTIONS) private readonly options: ClientRegistryApiOptions,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<HttpRequestLike>();
    const expected = this.options.admin?.token;
    const token = bearerTokenOf(req);
    if (token === undefined) throw invalidToken('the admin API needs a bearer token');
    if (!expected || !tokensEqual(token, expected))
      throw invalidToken('the admin token is not valid');
    return true;
  }
}

/**
 * Applied to every admin route: delegates to the configured guard (`admin.guard`, else
 * {@link AdminTokenGuard}) and turns a plain `false` into an OAuth-format 403.
 */
@Injectable()
export class AdminAccessGuard implements CanActivate {
  constructor(@Inject(ADMIN_ACCESS_GUARD) private readonly delegate: CanActivate) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const result = this.delegate.canActivate(context);
    const allowed = isObservable(result) ? await firstValueFrom(result) : await result;
    if (!allowed) throw new OAuthError('insufficient_scope', 'admin access is not allowed');
    return true;
  }
}

/** Who made an admin request, for the audit trail. */
export function defaultAdminActor(req: HttpRequestLike): string {
  const user = (req as HttpRequestLike & { user?: Record<string, unknown> }).user;
  for (const key of ['sub', 'id', 'username', 'email']) {
    const value = user?.[key];
    if (typeof value === 'string' || typeof value === 'number') return `admin:${String(value)}`;
  }
  return 'admin';
}

/** The operator named in audit events: the configured `admin.actor`, else {@link defaultAdminActor}. */
export function adminActorOf(options: ClientRegistryApiOptions, req: HttpRequestLike): string {
  return (options.admin?.actor ?? defaultAdminActor)(req);
}
