import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Post,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { HttpRequestLike } from '../../nest/http-platform.js';
import { OAuthEndpointExceptionFilter } from '../../nest/oauth-exception.filter.js';
import type { LoadedServerKey } from '../../persistence/server-key.service.js';
import { AdminAccessGuard, adminActorOf } from '../admin.guard.js';
import {
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from '../client-registry-api.options.js';
import { AccessTokenService } from './access-token.service.js';

/** Server signing keys in the admin API (SPEC S4): list and rotate. Never private parts. */
@ApiTags('admin: server keys')
@ApiBearerAuth('admin-token')
@Controller('admin/server-keys')
@UseGuards(AdminAccessGuard)
@UseFilters(OAuthEndpointExceptionFilter)
export class AdminServerKeysController {
  constructor(
    private readonly tokens: AccessTokenService,
    @Inject(CLIENT_REGISTRY_API_OPTIONS) private readonly options: ClientRegistryApiOptions,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The server signing keys: current, next and retiring' })
  @ApiOkResponse({ description: 'keys with kid, alg, status, created_at, not_after' })
  list() {
    return this.tokens.keys.publishedKeys().map(presentKey);
  }

  @Post('rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate: next → current, current → retiring (still published), new next',
  })
  async rotate(@Req() req: HttpRequestLike) {
    await this.tokens.keys.rotate(adminActorOf(this.options, req));
    return this.tokens.keys.publishedKeys().map(presentKey);
  }
}

function presentKey(key: LoadedServerKey) {
  return {
    kid: key.kid,
    alg: key.alg,
    status: key.status,
    created_at: key.createdAt.toISOString(),
    not_after: key.notAfter?.toISOString() ?? null,
    public_jwk: key.publicJwk,
  };
}
