import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import type { AuthenticatedClient } from '../core/types.js';
import { CLIENT_AUTH_STRATEGY } from './client-auth.constants.js';
import { ClientAuthenticationService } from './client-authentication.service.js';
import type { HttpRequestLike } from './http-platform.js';

type Verify = (
  req: HttpRequestLike,
  done: (error: unknown, client?: AuthenticatedClient) => void,
) => void;

/**
 * A Passport strategy that authenticates OAuth clients (every method of SPEC S2). Failures are
 * passed to Passport as errors so the OAuth body survives (`invalid_client`, reason code).
 */
export class OAuthClientStrategy extends PassportStrategyBase {
  name = CLIENT_AUTH_STRATEGY;

  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(req: HttpRequestLike): void {
    this.verify(req, (error, client) => {
      if (error) this.error(error as Error);
      else if (client) this.success(client);
      else this.fail(401);
    });
  }
}

/**
 * The Nest-registered Passport strategy: `AuthGuard('oauth-client')` authenticates the client and
 * sets `req.user` to the `AuthenticatedClient`. `validate()` only calls the core authenticator.
 */
@Injectable()
export class ClientAssertionStrategy extends PassportStrategy(
  OAuthClientStrategy,
  CLIENT_AUTH_STRATEGY,
) {
  constructor(private readonly authentication: ClientAuthenticationService) {
    super();
  }

  validate(req: HttpRequestLike): Promise<AuthenticatedClient> {
    return this.authentication.authenticate(req);
  }
}
