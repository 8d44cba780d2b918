import { Body, Controller, Header, HttpCode, Post, UseFilters, UseGuards } from '@nestjs/common';
import {
  AuthenticatedClient,
  type AuthenticatedClientInfo,
  ClientAuthGuard,
  OAuthEndpointExceptionFilter,
  OAuthError,
} from 'nestjs-client-auth';
import { AccessTokenIssuer } from './access-token.issuer.js';

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/**
 * The token endpoint (RFC 6749 §3.2) with the `client_credentials` grant (§4.4). The client is
 * authenticated by `ClientAuthGuard` before the grant is looked at.
 */
@Controller('oauth')
@UseFilters(OAuthEndpointExceptionFilter)
export class TokenController {
  constructor(private readonly issuer: AccessTokenIssuer) {}

  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @UseGuards(ClientAuthGuard)
  async token(
    @Body() body: Record<string, unknown>,
    @AuthenticatedClient() client: AuthenticatedClientInfo,
  ): Promise<TokenResponse> {
    const grantType = singleParameter(body, 'grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') {
      throw new OAuthError(
        'unsupported_grant_type',
        `grant_type "${truncate(grantType)}" is not supported`,
      );
    }
    if (!client.client.grantTypes.includes('client_credentials')) {
      throw new OAuthError(
        'unauthorized_client',
        'the client is not registered for client_credentials',
      );
    }
    const scope = grantedScope(singleParameter(body, 'scope'), client.client.scope);
    const issued = await this.issuer.issue({ clientId: client.clientId, scope });
    return {
      access_token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      ...(scope ? { scope } : {}),
    };
  }
}

/** A parameter that must appear at most once, as a string (RFC 6749 §3.2). */
function singleParameter(
  body: Record<string, unknown> | undefined,
  name: string,
): string | undefined {
  const value = body?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new OAuthError('invalid_request', `${name} must be sent exactly once`);
  }
  return value;
}

/**
 * RFC 6749 §3.3: the requested scope must be within what the client registered; no scope means
 * the registered scope.
 */
export function grantedScope(
  requested: string | undefined,
  registered: string | undefined,
): string | undefined {
  const allowed = new Set((registered ?? '').split(' ').filter(Boolean));
  if (requested === undefined) return allowed.size ? [...allowed].join(' ') : undefined;
  // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited.
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(requested)) {
    throw new OAuthError('invalid_scope', 'scope is malformed');
  }
  const tokens = [...new Set(requested.split(' '))];
  const refused = tokens.filter((token) => !allowed.has(token));
  if (refused.length) {
    throw new OAuthError(
      'invalid_scope',
      `scope not allowed for this client: ${truncate(refused.join(' '))}`,
    );
  }
  return tokens.join(' ');
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
