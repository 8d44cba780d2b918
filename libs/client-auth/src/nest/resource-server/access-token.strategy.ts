import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { HttpRequestLike } from '../http-platform.js';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import type { VerifiedAccessToken } from '../../core/access-token/verify-access-token.js';
import { AccessTokenAuthenticationService } from './access-token-authentication.service.js';
import { ACCESS_TOKEN_STRATEGY } from './resource-server.constants.js';

type Verify = (
  req: HttpRequestLike,
  done: (error: unknown, token?: VerifiedAccessToken) => void,
) => void;

/**
 * A Passport strategy that verifies OAuth access tokens (SPEC S8). Failures are passed to
 * Passport as errors, so the `AccessTokenError` — its reason and its RFC 6750 challenge —
 * reaches the exception filter intact.
 */
export class OAuthAccessTokenStrategy extends PassportStrategyBase {
  name = ACCESS_TOKEN_STRATEGY;

  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(req: HttpRequestLike): void {
    this.verify(req, (error, token) => {
      if (error) this.error(error as Error);
      else if (token) this.success(token);
      else this.fail(401);
    });
  }
}

/**
 * The Nest-registered Passport strategy: `AuthGuard('oauth-access-token')` verifies the bearer
 * token and sets `req.user` to the `VerifiedAccessToken`. `validate()` only calls the
 * authentication service. Scopes are checked by `AccessTokenGuard`, which can follow it:
 * `@UseGuards(AuthGuard('oauth-access-token'), AccessTokenGuard)`.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(
  OAuthAccessTokenStrategy,
  ACCESS_TOKEN_STRATEGY,
) {
  constructor(private readonly authentication: AccessTokenAuthenticationService) {
    super();
  }

  validate(req: HttpRequestLike): Promise<VerifiedAccessToken> {
    return this.authentication.authenticate(req);
  }
}
