import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpRequestLike, HttpReplyLike } from '../nest/http-platform.js';
import {
  ClientRegistryService,
  audienceReadiness,
} from '../persistence/client-registry.service.js';
import { InitialAccessTokenService } from '../persistence/initial-access-token.service.js';
import { OAuthEndpointExceptionFilter } from '../nest/oauth-exception.filter.js';
import { AdminAccessGuard, adminActorOf } from './admin.guard.js';
import { noStore } from './no-store.js';
import {
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from './client-registry-api.options.js';
import {
  AuditEventResponseDto,
  AuthFailureResponseDto,
  InitialAccessTokenResponseDto,
  IssueInitialAccessTokenDto,
  ListClientsQueryDto,
  ListQueryDto,
  ReadinessResponseDto,
} from './dto/index.js';
import {
  presentAuditEvent,
  presentFailure,
  presentInitialAccessToken,
  presentReadiness,
} from './presenters.js';
import {
  jsonBodyOf,
  parseWireDate,
  validateAdminBody,
  validateAdminQuery,
} from './request-validation.js';

/**
 * The registry-wide part of the admin API (SPEC S3): initial access tokens, the audit trail,
 * recent authentication failures and the audience-readiness overview.
 */
@ApiTags('admin: registry')
@ApiBearerAuth('admin-token')
@Controller('admin')
@UseGuards(AdminAccessGuard)
@UseFilters(OAuthEndpointExceptionFilter)
export class AdminRegistryController {
  constructor(
    private readonly registry: ClientRegistryService,
    private readonly initialAccessTokens: InitialAccessTokenService,
    @Inject(CLIENT_REGISTRY_API_OPTIONS) private readonly options: ClientRegistryApiOptions,
  ) {}

  @Post('initial-access-tokens')
  @HttpCode(201)
  @ApiOperation({ summary: 'Issue an initial access token (the token is returned once)' })
  @ApiBody({ type: IssueInitialAccessTokenDto, required: false })
  @ApiCreatedResponse({ type: InitialAccessTokenResponseDto })
  async issueToken(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Body() body: unknown,
  ) {
    noStore(res);
    const dto = (await validateAdminBody(jsonBodyOf(req, body), IssueInitialAccessTokenDto, {
      optional: true,
    })) as IssueInitialAccessTokenDto;
    const { token, info } = await this.initialAccessTokens.issue(
      {
        ...(dto.expires_in !== undefined && { expiresInSeconds: dto.expires_in }),
        ...(dto.max_uses !== undefined && { maxUses: dto.max_uses }),
        ...(dto.description !== undefined && { description: dto.description }),
      },
      this.#actor(req),
    );
    return { ...presentInitialAccessToken(info), initial_access_token: token };
  }

  @Get('initial-access-tokens')
  @ApiOperation({ summary: 'List initial access tokens (never their values)' })
  @ApiOkResponse({ type: [InitialAccessTokenResponseDto] })
  async listTokens() {
    return (await this.initialAccessTokens.list()).map(presentInitialAccessToken);
  }

  @Delete('initial-access-tokens/:id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an initial access token' })
  @ApiOkResponse({ type: InitialAccessTokenResponseDto })
  async revokeToken(@Req() req: HttpRequestLike, @Param('id') id: string) {
    return presentInitialAccessToken(await this.initialAccessTokens.revoke(id, this.#actor(req)));
  }

  @Get('audit-events')
  @ApiOperation({ summary: 'Registry changes, newest first' })
  @ApiOkResponse({ type: [AuditEventResponseDto] })
  async auditEvents(@Query() query: unknown) {
    const q = (await validateAdminQuery(query, ListQueryDto)) as ListQueryDto;
    const before = parseWireDate(q.before, 'before');
    const events = await this.registry.listAuditEvents({
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(q.client_id !== undefined && { clientId: q.client_id }),
      ...(before && { before }),
    });
    return events.map(presentAuditEvent);
  }

  @Get('failures')
  @ApiOperation({ summary: 'Recent authentication failures of every client, newest first' })
  @ApiOkResponse({ type: [AuthFailureResponseDto] })
  async failures(@Query() query: unknown) {
    const q = (await validateAdminQuery(query, ListQueryDto)) as ListQueryDto;
    const before = parseWireDate(q.before, 'before');
    const failures = await this.registry.listFailures({
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(q.client_id !== undefined && { clientId: q.client_id }),
      ...(before && { before }),
    });
    return failures.map(presentFailure);
  }

  @Get('readiness')
  @ApiOperation({ summary: 'Audience readiness of a page of clients (SPEC S2.8)' })
  @ApiOkResponse({ type: [ReadinessResponseDto] })
  async readiness(@Query() query: unknown) {
    const q = (await validateAdminQuery(query, ListClientsQueryDto)) as ListClientsQueryDto;
    const page = await this.registry.listClients({
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(q.offset !== undefined && { offset: q.offset }),
      ...(q.name !== undefined && { name: q.name }),
      ...(q.method !== undefined && { method: q.method }),
      ...(q.status !== undefined && { status: q.status }),
    });
    const policy = this.options.audiencePolicy ?? 'compat';
    return {
      ...page,
      items: page.items.map((client) => presentReadiness(audienceReadiness(client, policy))),
    };
  }

  #actor(req: HttpRequestLike): string {
    return adminActorOf(this.options, req);
  }
}
