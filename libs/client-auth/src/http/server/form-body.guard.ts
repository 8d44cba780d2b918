import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { HttpRequestLike } from '../../nest/http-platform.js';
import { OAuthError } from '../../core/errors.js';

/** `application/x-www-form-urlencoded`, with or without parameters. */
const FORM_MEDIA_TYPE = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i;

/**
 * Refuses, with `invalid_request`, a request to the token, introspection or revocation endpoint
 * whose body is not `application/x-www-form-urlencoded` (RFC 6749 §3.2 and §4.4.2, RFC 7662
 * §2.1, RFC 7009 §2.1). It runs before client authentication: a JSON document with the same
 * members is not a token request, and must neither get a token nor consume an assertion's `jti`.
 * A request without a body passes (it then fails for its missing parameters).
 *
 * @example
 * ```ts
 * @Post('token')
 * @UseGuards(FormBodyGuard, ClientAuthGuard)
 * token(@Body() body: Record<string, unknown>) { … }
 * ```
 */
@Injectable()
export class FormBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<HttpRequestLike>();
    const length = req.headers['content-length'];
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    const type = req.headers['content-type'];
    if (hasBody && !(typeof type === 'string' && FORM_MEDIA_TYPE.test(type))) {
      throw new OAuthError(
        'invalid_request',
        'the request body must be application/x-www-form-urlencoded (RFC 6749 §3.2)',
      );
    }
    return true;
  }
}
