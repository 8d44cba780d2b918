import {
  Body,
  Controller,
  Header,
  HttpCode,
  Inject,
  Logger,
  Post,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { RemoteKeySetProvider } from '../../core/jwks/remote-key-set.interface.js';
import { OAuthError } from '../../core/errors.js';
import {
  JWT_BEARER_GRANT_TYPE,
  JwtBearerGrantError,
  verifyJwtBearerGrant,
} from '../../core/grants/jwt-bearer-grant.js';
import { ReplayStore } from '../../core/replay/replay-store.interface.js';
import { grantedResources, grantedScope } from '../../core/tokens/scope.js';
import type { AuthenticatedClient as AuthenticatedClientInfo } from '../../core/types.js';
import { AuthenticatedClient } from '../../nest/authenticated-client.decorator.js';
import { CLIENT_KEY_SETS } from '../../nest/client-auth.constants.js';
import { ClientAuthGuard } from '../../nest/client-auth.guard.js';
import { OAuthEndpointExceptionFilter } from '../../nest/oauth-exception.filter.js';
import { AccessTokenService } from './access-token.service.js';
import { FormBodyGuard } from './form-body.guard.js';
import { repeatedParameter, singleParameter, truncate } from './form-parameters.js';
import { OAUTH_SERVER_OPTIONS, type OAuthServerOptions } from './oauth-server.options.js';

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/**
 * The token endpoint (RFC 6749 §3.2) at `/oauth/token`: `client_credentials` (§4.4) and, when
 * trusted issuers are configured, the JWT bearer grant (RFC 7523 §2.1). The client is
 * authenticated by `ClientAuthGuard` (SPEC S2) before the grant is looked at; a client uses
 * only the grants it registered (`unauthorized_client`, RFC 7521 §4.1.1).
 */
@ApiExcludeController()
@Controller('oauth')
@UseFilters(OAuthEndpointExceptionFilter)
export class TokenController {
  readonly #logger = new Logger('TokenEndpoint');

  constructor(
    private readonly tokens: AccessTokenService,
    @Inject(OAUTH_SERVER_OPTIONS) private readonly options: OAuthServerOptions,
    @Inject(ReplayStore) private readonly replayStore: ReplayStore,
    @Inject(CLIENT_KEY_SETS) private readonly keySets: RemoteKeySetProvider,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @UseGuards(FormBodyGuard, ClientAuthGuard)
  async token(
    @Body() body: Record<string, unknown>,
    @AuthenticatedClient() client: AuthenticatedClientInfo,
  ): Promise<TokenResponse> {
    const grantType = singleParameter(body, 'grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    const offered = [
      'client_credentials',
      ...(this.options.trustedIssuers?.length ? [JWT_BEARER_GRANT_TYPE] : []),
    ];
    if (!offered.includes(grantType)) {
      throw new OAuthError(
        'unsupported_grant_type',
        `grant_type "${truncate(grantType)}" is not supported`,
      );
    }
    if (!client.client.grantTypes.includes(grantType)) {
      throw new OAuthError('unauthorized_client', `the client is not registered for ${grantType}`);
    }
    const scope = grantedScope(singleParameter(body, 'scope'), client.client.scope);
    const resources = grantedResources(repeatedParameter(body, 'resource'), this.options.resources);

    let subject = client.clientId;
    if (grantType === JWT_BEARER_GRANT_TYPE) {
      try {
        const grant = await verifyJwtBearerGrant(singleParameter(body, 'assertion'), {
          trustedIssuers: this.options.trustedIssuers ?? [],
          issuer: this.options.issuer,
          tokenEndpoint: `${this.options.issuer}/oauth/token`,
          replayStore: this.replayStore,
          keySets: this.keySets,
          ...(this.options.jwtBearer?.leewaySeconds !== undefined && {
            leewaySeconds: this.options.jwtBearer.leewaySeconds,
          }),
          ...(this.options.jwtBearer?.maxLifetimeSeconds !== undefined && {
            maxLifetimeSeconds: this.options.jwtBearer.maxLifetimeSeconds,
          }),
        });
        subject = grant.subject;
      } catch (error) {
        if (error instanceof JwtBearerGrantError) {
          this.#logger.warn(`jwt-bearer grant refused: ${error.reason} client=${client.clientId}`);
        }
        throw error;
      }
    }

    const issued = await this.tokens.issue({
      clientId: client.clientId,
      subject,
      ...(scope !== undefined && { scope }),
      ...(resources.length > 0 && { audience: resources }),
    });
    return {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      ...(scope ? { scope } : {}),
    };
  }
}
