import {
  Body,
  Controller,
  Header,
  HttpCode,
  Logger,
  Post,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { OAuthError } from '../../core/errors.js';
import type { AuthenticatedClient as AuthenticatedClientInfo } from '../../core/types.js';
import { AuthenticatedClient } from '../../nest/authenticated-client.decorator.js';
import { ClientAuthGuard } from '../../nest/client-auth.guard.js';
import { OAuthEndpointExceptionFilter } from '../../nest/oauth-exception.filter.js';
import { AccessTokenService } from './access-token.service.js';
import { FormBodyGuard } from './form-body.guard.js';
import { singleParameter } from './form-parameters.js';

/**
 * Token revocation (RFC 7009) at `/oauth/revoke`. The caller authenticates as a client; a token
 * issued to it is revoked until it would have expired, in the shared store (every instance,
 * across restarts). Per RFC 7009 §2.2 the answer is 200 whether or not the token was valid; a
 * token issued to another client is left alone and the answer is the same, so nothing about it
 * is disclosed.
 */
@ApiExcludeController()
@Controller('oauth')
@UseFilters(OAuthEndpointExceptionFilter)
export class RevocationController {
  readonly #logger = new Logger('Revocation');

  constructor(private readonly tokens: AccessTokenService) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @UseGuards(FormBodyGuard, ClientAuthGuard)
  async revoke(
    @Body() body: Record<string, unknown>,
    @AuthenticatedClient() client: AuthenticatedClientInfo,
  ): Promise<void> {
    const token = singleParameter(body, 'token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    // RFC 7009 §2.1: the hint is only a hint — a server that does not find the token under it
    // searches every type it supports, so a wrong hint never stops the revocation. Validated,
    // then ignored: only access tokens are issued here.
    singleParameter(body, 'token_type_hint');
    const active = await this.tokens.active(token);
    if (active && active.clientId === client.clientId) {
      await this.tokens.revoke(active);
      this.#logger.log(`revoked token jti=${active.jti} client=${client.clientId}`);
    }
  }
}
