import { Controller, Get, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AccessTokenClaims,
  AccessTokenExceptionFilter,
  AccessTokenGuard,
  RequiredScopes,
} from 'nestjs-client-auth';

/** What `GET /api/whoami` answers. */
export interface WhoAmIResponse {
  /** The client the access token was issued to. */
  client_id: string | null;
  /** The principal of the token (the client itself for `client_credentials`). */
  sub: string | null;
  /** The token's scopes, space-separated (RFC 9068 §2.2.3); empty when it has none. */
  scope: string;
}

/**
 * A small protected API of the reference server (SPEC S8), guarded by the library's
 * `AccessTokenGuard` with tokens of this very server: `GET /api/whoami` needs any valid access
 * token, `GET /api/reports` one with the `reports:read` scope. Refusals follow RFC 6750 (401
 * `invalid_token`, 403 `insufficient_scope`, each with `WWW-Authenticate: Bearer`).
 *
 * The filter is bound explicitly so that the answer never depends on which global filter Nest
 * consults first (the reference server registers a catch-all one for its OAuth endpoints).
 */
@ApiTags('protected resource')
@ApiBearerAuth('access-token')
@Controller('api')
@UseGuards(AccessTokenGuard)
@UseFilters(AccessTokenExceptionFilter)
export class ProtectedController {
  @Get('whoami')
  @ApiOperation({ summary: 'The client and scopes of the presented access token' })
  whoami(@AccessTokenClaims() claims: Readonly<Record<string, unknown>>): WhoAmIResponse {
    return {
      client_id: typeof claims.client_id === 'string' ? claims.client_id : null,
      sub: typeof claims.sub === 'string' ? claims.sub : null,
      scope: typeof claims.scope === 'string' ? claims.scope : '',
    };
  }

  @Get('reports')
  @RequiredScopes('reports:read')
  @ApiOperation({ summary: 'Sample reports; needs the reports:read scope' })
  reports(@AccessTokenClaims('client_id') clientId: string | undefined): {
    reports: { id: string; title: string }[];
    requested_by: string | null;
  } {
    return {
      reports: [
        { id: 'r-1', title: 'Token issuance by client' },
        { id: 'r-2', title: 'Authentication failures by reason' },
      ],
      requested_by: clientId ?? null,
    };
  }
}
