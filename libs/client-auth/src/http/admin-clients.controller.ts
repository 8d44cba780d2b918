import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
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
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { HttpRequestLike, HttpReplyLike } from '../nest/http-platform.js';
import type { JWK } from 'jose';
import { OAuthError } from '../core/errors.js';
import {
  ClientNotFoundError,
  ClientRegistryService,
} from '../persistence/client-registry.service.js';
import { OAuthEndpointExceptionFilter } from '../nest/oauth-exception.filter.js';
import { AdminAccessGuard, adminActorOf } from './admin.guard.js';
import { noStore } from './no-store.js';
import {
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from './client-registry-api.options.js';
import {
  AddCredentialDto,
  AdminCreateClientDto,
  AdminUpdateClientDto,
  AuthFailureResponseDto,
  ClientResponseDto,
  CredentialResponseDto,
  ExpireCredentialDto,
  FederatedCredentialDto,
  ListClientsQueryDto,
  ListQueryDto,
  ReadinessResponseDto,
  RotateKeyDto,
  RotateSecretDto,
} from './dto/index.js';
import { toCreateClientInput, type AdminClientWire } from './metadata-mapping.js';
import {
  presentClient,
  presentCredential,
  presentFailure,
  presentFederatedCredential,
  presentReadiness,
} from './presenters.js';
import {
  jsonBodyOf,
  parseWireDate,
  validateAdminBody,
  validateAdminQuery,
} from './request-validation.js';

/**
 * The admin REST API for clients and their credentials (SPEC S3), under `/admin/clients`.
 * Guarded by the admin token (or the host application's guard); every change is audited with
 * the operator's name. Secrets are returned only by the calls that create them, once.
 */
@ApiTags('admin: clients')
@ApiBearerAuth('admin-token')
@Controller('admin/clients')
@UseGuards(AdminAccessGuard)
@UseFilters(OAuthEndpointExceptionFilter)
export class AdminClientsController {
  constructor(
    private readonly registry: ClientRegistryService,
    @Inject(CLIENT_REGISTRY_API_OPTIONS) private readonly options: ClientRegistryApiOptions,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List clients (paginated; filter by name, method, status)' })
  @ApiOkResponse({ description: '`{ items, total, limit, offset }` of clients' })
  async list(@Res({ passthrough: true }) res: HttpReplyLike, @Query() query: unknown) {
    noStore(res);
    const q = (await validateAdminQuery(query, ListClientsQueryDto)) as ListClientsQueryDto;
    const page = await this.registry.listClients({
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(q.offset !== undefined && { offset: q.offset }),
      ...(q.name !== undefined && { name: q.name }),
      ...(q.method !== undefined && { method: q.method }),
      ...(q.status !== undefined && { status: q.status }),
    });
    const now = new Date();
    return { ...page, items: page.items.map((client) => presentClient(client, now)) };
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a client (its secret, if any, is returned once)' })
  @ApiBody({ type: AdminCreateClientDto })
  @ApiCreatedResponse({ type: ClientResponseDto })
  async create(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Body() body: unknown,
  ) {
    noStore(res);
    const wire = (await validateAdminBody(
      jsonBodyOf(req, body),
      AdminCreateClientDto,
    )) as AdminClientWire;
    const created = await this.registry.createClient(toCreateClientInput(wire), {
      actor: this.#actor(req),
    });
    return {
      ...presentClient(created.client, new Date()),
      ...(created.clientSecret !== undefined && { client_secret: created.clientSecret }),
    };
  }

  @Get(':clientId')
  @ApiOperation({ summary: 'Read a client with its credentials' })
  @ApiOkResponse({ type: ClientResponseDto })
  async read(@Res({ passthrough: true }) res: HttpReplyLike, @Param('clientId') clientId: string) {
    noStore(res);
    const client = await this.registry.getClient(clientId);
    if (!client) throw new ClientNotFoundError(clientId);
    return presentClient(client, new Date());
  }

  @Put(':clientId')
  @ApiOperation({
    summary: 'Replace a client’s metadata (send `If-Match: <version>` to refuse lost updates)',
  })
  @ApiBody({ type: AdminUpdateClientDto })
  @ApiOkResponse({ type: ClientResponseDto })
  async replace(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ) {
    noStore(res);
    const wire = (await validateAdminBody(
      jsonBodyOf(req, body),
      AdminUpdateClientDto,
    )) as AdminClientWire;
    const expectedVersion = ifMatchVersion(req);
    const { client_id: bodyClientId, ...rest } = wire;
    // The body names the client it describes; another id is a mistake, never a rename.
    if (bodyClientId !== undefined && bodyClientId !== clientId) {
      throw new OAuthError('invalid_request', 'client_id: must equal the client being updated');
    }
    const updated = await this.registry.replaceClient(clientId, toCreateClientInput(rest), {
      actor: this.#actor(req),
      ...(expectedVersion !== undefined && { expectedVersion }),
    });
    return {
      ...presentClient(updated.client, new Date()),
      ...(updated.clientSecret !== undefined && { client_secret: updated.clientSecret }),
    };
  }

  @Delete(':clientId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a client and its credentials' })
  @ApiNoContentResponse()
  async remove(@Req() req: HttpRequestLike, @Param('clientId') clientId: string): Promise<void> {
    await this.registry.deleteClient(clientId, this.#actor(req));
  }

  @Post(':clientId/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a client: refused from the next request on' })
  @ApiOkResponse({ type: ClientResponseDto })
  async disable(@Req() req: HttpRequestLike, @Param('clientId') clientId: string) {
    return presentClient(
      await this.registry.setEnabled(clientId, false, this.#actor(req)),
      new Date(),
    );
  }

  @Post(':clientId/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a client' })
  @ApiOkResponse({ type: ClientResponseDto })
  async enable(@Req() req: HttpRequestLike, @Param('clientId') clientId: string) {
    return presentClient(
      await this.registry.setEnabled(clientId, true, this.#actor(req)),
      new Date(),
    );
  }

  @Post(':clientId/secret/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Issue a new secret (returned once); old secrets expire after the overlap',
  })
  @ApiBody({ type: RotateSecretDto, required: false })
  async rotateSecret(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ) {
    noStore(res);
    const dto = (await validateAdminBody(jsonBodyOf(req, body), RotateSecretDto, {
      optional: true,
    })) as RotateSecretDto;
    const secret = await this.registry.rotateSecret(
      clientId,
      { overlapSeconds: dto.overlap_seconds ?? 0 },
      this.#actor(req),
    );
    const client = await this.registry.getClient(clientId);
    return {
      client_id: clientId,
      client_secret: secret,
      client: client && presentClient(client, new Date()),
    };
  }

  @Post(':clientId/credentials')
  @HttpCode(201)
  @ApiOperation({ summary: 'Add a public key to a private_key_jwt client' })
  @ApiBody({ type: AddCredentialDto })
  @ApiCreatedResponse({ type: CredentialResponseDto })
  async addKey(
    @Req() req: HttpRequestLike,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ) {
    const dto = (await validateAdminBody(
      jsonBodyOf(req, body),
      AddCredentialDto,
    )) as AddCredentialDto;
    const notBefore = parseWireDate(dto.not_before, 'not_before');
    const expiresAt = parseWireDate(dto.expires_at, 'expires_at');
    const credential = await this.registry.addPublicKey(
      clientId,
      dto.jwk as JWK,
      { ...(notBefore && { notBefore }), ...(expiresAt && { expiresAt }) },
      this.#actor(req),
    );
    return presentCredential(credential, new Date());
  }

  @Post(':clientId/credentials/rotate')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Add a new key; the current keys stay valid for `overlap_seconds`, then expire',
  })
  @ApiBody({ type: RotateKeyDto })
  @ApiCreatedResponse({ type: CredentialResponseDto })
  async rotateKey(
    @Req() req: HttpRequestLike,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ) {
    const dto = (await validateAdminBody(jsonBodyOf(req, body), RotateKeyDto)) as RotateKeyDto;
    const credential = await this.registry.rotateKey(clientId, dto.jwk as JWK, {
      ...(dto.overlap_seconds !== undefined && { overlapSeconds: dto.overlap_seconds }),
      actor: this.#actor(req),
    });
    return presentCredential(credential, new Date());
  }

  @Post(':clientId/credentials/:credentialId/expire')
  @HttpCode(200)
  @ApiOperation({ summary: 'Expire a credential now (or at `at`)' })
  @ApiBody({ type: ExpireCredentialDto, required: false })
  @ApiOkResponse({ type: CredentialResponseDto })
  async expire(
    @Req() req: HttpRequestLike,
    @Param('clientId') clientId: string,
    @Param('credentialId') credentialId: string,
    @Body() body: unknown,
  ) {
    const dto = (await validateAdminBody(jsonBodyOf(req, body), ExpireCredentialDto, {
      optional: true,
    })) as ExpireCredentialDto;
    const at = parseWireDate(dto.at, 'at');
    const credential = await this.registry.expireCredential(clientId, credentialId, {
      ...(at && { at }),
      actor: this.#actor(req),
    });
    return presentCredential(credential, new Date());
  }

  @Post(':clientId/credentials/:credentialId/revoke')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a credential: refused from the next request on' })
  @ApiNoContentResponse()
  async revoke(
    @Req() req: HttpRequestLike,
    @Param('clientId') clientId: string,
    @Param('credentialId') credentialId: string,
  ): Promise<void> {
    await this.registry.revokeCredential(clientId, credentialId, this.#actor(req));
  }

  @Get(':clientId/federated-credentials')
  @ApiOperation({ summary: 'The client’s federated credentials (SPEC S9)' })
  async listFederated(@Param('clientId') clientId: string) {
    if (!(await this.registry.getClient(clientId))) throw new ClientNotFoundError(clientId);
    const now = new Date();
    return (await this.registry.listFederatedCredentials(clientId)).map((credential) =>
      presentFederatedCredential(credential, now),
    );
  }

  @Post(':clientId/federated-credentials')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Trust workload tokens of an external issuer as this client’s assertion (SPEC S9)',
  })
  @ApiBody({ type: FederatedCredentialDto })
  async addFederated(
    @Req() req: HttpRequestLike,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ) {
    const dto = (await validateAdminBody(body, FederatedCredentialDto)) as FederatedCredentialDto;
    const credential = await this.registry.addFederatedCredential(
      clientId,
      {
        issuer: dto.issuer,
        subject: dto.subject,
        audience: dto.audience,
        ...(dto.jwks_uri !== undefined && { jwksUri: dto.jwks_uri }),
        ...(dto.jwks !== undefined && { jwks: dto.jwks as { keys: JWK[] } }),
        ...(dto.required_claims !== undefined && { requiredClaims: dto.required_claims }),
        ...(dto.max_lifetime !== undefined && { maxLifetimeSeconds: dto.max_lifetime }),
        ...(dto.replay !== undefined && { replay: dto.replay }),
        ...(dto.name !== undefined && { name: dto.name }),
        ...(dto.not_before !== undefined && { notBefore: dto.not_before }),
        ...(dto.expires_at !== undefined && { expiresAt: dto.expires_at }),
      },
      this.#actor(req),
    );
    return presentFederatedCredential(credential, new Date());
  }

  @Post(':clientId/federated-credentials/:credentialId/revoke')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a federated credential' })
  @ApiNoContentResponse()
  async revokeFederated(
    @Req() req: HttpRequestLike,
    @Param('clientId') clientId: string,
    @Param('credentialId') credentialId: string,
  ): Promise<void> {
    await this.registry.revokeFederatedCredential(clientId, credentialId, this.#actor(req));
  }

  @Get(':clientId/failures')
  @ApiOperation({ summary: 'Recent authentication failures of the client, with reason codes' })
  @ApiOkResponse({ type: [AuthFailureResponseDto] })
  async failures(@Param('clientId') clientId: string, @Query() query: unknown) {
    const q = (await validateAdminQuery(query, ListQueryDto)) as ListQueryDto;
    const before = parseWireDate(q.before, 'before');
    const failures = await this.registry.listFailures({
      clientId,
      ...(q.limit !== undefined && { limit: q.limit }),
      ...(before && { before }),
    });
    return failures.map(presentFailure);
  }

  @Get(':clientId/readiness')
  @ApiOperation({
    summary: 'Whether the client’s assertions would pass the strict audience policy',
  })
  @ApiOkResponse({ type: ReadinessResponseDto })
  async readiness(@Param('clientId') clientId: string) {
    return presentReadiness(
      await this.registry.readiness(clientId, this.options.audiencePolicy ?? 'compat'),
    );
  }

  #actor(req: HttpRequestLike): string {
    return adminActorOf(this.options, req);
  }
}

/** `If-Match: "3"` or `If-Match: 3` → 3 (the client's `version`). */
function ifMatchVersion(req: HttpRequestLike): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw new OAuthError('invalid_request', 'If-Match: must be the client version');
  return Number(match[1]);
}
