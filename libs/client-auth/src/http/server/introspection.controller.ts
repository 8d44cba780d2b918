import {
  Body,
  Controller,
  Header,
  HttpCode,
  Inject,
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
import { OAUTH_SERVER_OPTIONS, type OAuthServerOptions } from './oauth-server.options.js';

/**
 * Token introspection (RFC 7662) at `/oauth/introspect`. The caller authenticates as a client
 * (SPEC S2, any registered method); it learns about a token only when the introspection policy
 * allows it (its own tokens by default) — otherwise, and for anything not an active token of
 * this server, the answer is `{"active": false}` (RFC 7662 §2.2).
 */
@ApiExcludeController()
@Controller('oauth')
@UseFilters(OAuthEndpointExceptionFilter)
export class IntrospectionController {
  constructor(
    private readonly tokens: AccessTokenService,
    @Inject(OAUTH_SERVER_OPTIONS) private readonly options: OAuthServerOptions,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @UseGuards(FormBodyGuard, ClientAuthGuard)
  async introspect(
    @Body() body: Record<string, unknown>,
    @AuthenticatedClient() client: AuthenticatedClientInfo,
  ): Promise<Record<string, unknown>> {
    const token = singleParameter(body, 'token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    singleParameter(body, 'token_type_hint'); // RFC 7662 §2.1: a hint; validated, then ignored.
    const active = await this.tokens.active(token);
    if (!active || !this.#allowed(client.clientId, active.clientId)) return { active: false };
    const claims = active.claims;
    return {
      active: true,
      ...(typeof claims.scope === 'string' && { scope: claims.scope }),
      client_id: active.clientId,
      token_type: 'Bearer',
      exp: claims.exp,
      ...(typeof claims.iat === 'number' && { iat: claims.iat }),
      ...(typeof claims.nbf === 'number' && { nbf: claims.nbf }),
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
    };
  }

  #allowed(caller: string, owner: string): boolean {
    const policy = this.options.introspection?.allow ?? 'own';
    if (policy === 'all') return true;
    if (policy === 'own') return caller === owner;
    return policy(caller, owner);
  }
}
