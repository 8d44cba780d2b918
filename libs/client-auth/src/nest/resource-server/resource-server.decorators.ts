import { createParamDecorator, type ExecutionContext, Inject, SetMetadata } from '@nestjs/common';
import type { VerifiedAccessToken } from '../../core/access-token/verify-access-token.js';
import { REQUIRED_SCOPES_METADATA, VERIFIED_ACCESS_TOKEN } from './resource-server.constants.js';
import { RESOURCE_SERVER_OPTIONS } from './resource-server.module-definition.js';

/** Injects the resolved `ResourceServerModuleOptions`. */
export const InjectResourceServerOptions = (): ParameterDecorator =>
  Inject(RESOURCE_SERVER_OPTIONS);

/**
 * Scopes a route requires, all of them (SPEC S8), checked by `AccessTokenGuard` after the token
 * is verified. On a controller and a handler the lists add up. A token lacking one is refused
 * with 403 `insufficient_scope` and a challenge naming the required scopes (RFC 6750 §3.1).
 *
 * @example
 * ```ts
 * @Get('reports')
 * @UseGuards(AccessTokenGuard)
 * @RequiredScopes('reports:read')
 * list() { ... }
 * ```
 */
export const RequiredScopes = (...scopes: string[]) =>
  SetMetadata(REQUIRED_SCOPES_METADATA, scopes);

/**
 * Yields the claims of the access token verified for this request (by `AccessTokenGuard` or
 * `AuthGuard('oauth-access-token')`): every claim of the JWT, or every member of the
 * introspection answer. With a name, that one claim.
 *
 * @example
 * ```ts
 * whoami(@AccessTokenClaims() claims: Record<string, unknown>, @AccessTokenClaims('sub') sub: string) {}
 * ```
 */
export const AccessTokenClaims = createParamDecorator(
  (name: string | undefined, context: ExecutionContext): unknown => {
    const req = context.switchToHttp().getRequest<Record<string, unknown>>();
    const token = req[VERIFIED_ACCESS_TOKEN] as VerifiedAccessToken | undefined;
    if (!token) return undefined;
    return name === undefined ? token.claims : token.claims[name];
  },
);
