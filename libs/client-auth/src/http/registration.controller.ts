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
  Req,
  Res,
  UseFilters,
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
import { OAuthError } from '../core/errors.js';
import {
  ClientNotFoundError,
  ClientRegistryService,
} from '../persistence/client-registry.service.js';
import {
  InitialAccessTokenService,
  invalidInitialAccessToken,
} from '../persistence/initial-access-token.service.js';
import { SECRET_METHODS } from '../persistence/client-metadata-validation.js';
import { noStore } from './no-store.js';
import { OAuthEndpointExceptionFilter } from '../nest/oauth-exception.filter.js';
import { bearerTokenOf, invalidToken, tokensEqual } from './bearer-token.js';
import {
  CLIENT_REGISTRY_API_OPTIONS,
  DEFAULT_REGISTRATION_AUTH_METHODS,
  type ClientRegistryApiOptions,
} from './client-registry-api.options.js';
import { ClientMetadataDto, RegistrationResponseDto } from './dto/index.js';
import { toCreateClientInput, type ClientMetadataWire } from './metadata-mapping.js';
import { registeredMetadata } from './presenters.js';
import { jsonBodyOf, validateRegistrationBody } from './request-validation.js';

/** Members a client must not send in an RFC 7592 update (§2.2). */
const SERVER_MANAGED = [
  'registration_access_token',
  'registration_client_uri',
  'client_secret_expires_at',
  'client_id_issued_at',
] as const;

/**
 * RFC 7591 dynamic client registration and RFC 7592 client configuration (SPEC S3).
 *
 * - `POST /oauth/register` with `Authorization: Bearer <initial access token>` (unless open
 *   registration is on) → 201 with the client's id, secret (secret methods) and its
 *   registration access token, shown once.
 * - `GET|PUT|DELETE /oauth/register/:clientId` with `Authorization: Bearer <registration access
 *   token>`; `PUT` replaces the metadata and rotates the token.
 *
 * Errors follow RFC 7591 §3.2.2 (`invalid_client_metadata`, `invalid_redirect_uri`,
 * `invalid_software_statement`, naming the field) and RFC 6750 (`invalid_token`, 401).
 */
@ApiTags('registration')
@Controller('oauth/register')
@UseFilters(OAuthEndpointExceptionFilter)
export class RegistrationController {
  constructor(
    private readonly registry: ClientRegistryService,
    private readonly initialAccessTokens: InitialAccessTokenService,
    @Inject(CLIENT_REGISTRY_API_OPTIONS) private readonly options: ClientRegistryApiOptions,
  ) {}

  /** RFC 7591 §3.1: registers a client. */
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a client (RFC 7591)' })
  @ApiBearerAuth('initial-access-token')
  @ApiBody({ type: ClientMetadataDto })
  @ApiCreatedResponse({ type: RegistrationResponseDto })
  async register(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    noStore(res);
    const initialAccessTokenId = await this.#authorizeRegistration(req);
    const metadata = (await validateRegistrationBody(jsonBodyOf(req, body))) as ClientMetadataWire;
    this.#checkMethod(metadata);
    const created = await this.registry.createClient(toCreateClientInput(metadata), {
      actor: 'registration',
      issueRegistrationAccessToken: true,
      ...(initialAccessTokenId !== undefined && { initialAccessTokenId }),
    });
    return {
      ...registeredMetadata(created.client, new Date()),
      ...(created.clientSecret !== undefined && {
        client_secret: created.clientSecret,
        client_secret_expires_at: 0,
      }),
      registration_access_token: created.registrationAccessToken,
      registration_client_uri: this.#clientUri(created.client.clientId),
    };
  }

  /** RFC 7592 §2.1: reads the client's registration. Never returns a secret. */
  @Get(':clientId')
  @ApiOperation({ summary: 'Read a client registration (RFC 7592)' })
  @ApiBearerAuth('registration-access-token')
  @ApiOkResponse({ type: RegistrationResponseDto })
  async read(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Param('clientId') clientId: string,
  ): Promise<Record<string, unknown>> {
    noStore(res);
    await this.#authorizeClient(req, clientId);
    const client = await this.registry.getClient(clientId);
    if (!client) throw invalidToken('the registration access token is not valid');
    return {
      ...registeredMetadata(client, new Date()),
      ...(SECRET_METHODS.includes(client.tokenEndpointAuthMethod) && {
        client_secret_expires_at: 0,
      }),
      registration_client_uri: this.#clientUri(clientId),
    };
  }

  /**
   * RFC 7592 §2.2: replaces the metadata. The registration access token is rotated; a method
   * switch issues the new method's credentials (a new secret is returned once).
   */
  @Put(':clientId')
  @ApiOperation({ summary: 'Replace a client registration (RFC 7592)' })
  @ApiBearerAuth('registration-access-token')
  @ApiBody({ type: ClientMetadataDto })
  @ApiOkResponse({ type: RegistrationResponseDto })
  async update(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Param('clientId') clientId: string,
    @Body() body: unknown,
  ): Promise<Record<string, unknown>> {
    noStore(res);
    await this.#authorizeClient(req, clientId);
    const json = jsonBodyOf(req, body);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
      const raw = json as Record<string, unknown>;
      for (const member of SERVER_MANAGED) {
        if (member in raw) {
          throw new OAuthError('invalid_request', `${member}: must not be sent (RFC 7592 §2.2)`);
        }
      }
      if (raw.client_id !== clientId) {
        throw new OAuthError(
          'invalid_request',
          'client_id: must be present and equal to the client being updated (RFC 7592 §2.2)',
        );
      }
      if (raw.client_secret !== undefined && typeof raw.client_secret !== 'string') {
        throw new OAuthError('invalid_client_metadata', 'client_secret: must be a string');
      }
    }
    const metadata = (await validateRegistrationBody(json)) as ClientMetadataWire;
    this.#checkMethod(metadata);
    const currentSecret = (json as { client_secret?: string }).client_secret;
    const updated = await this.registry.replaceClient(clientId, toCreateClientInput(metadata), {
      actor: `client:${clientId}`,
      rotateRegistrationAccessToken: true,
      ...(currentSecret !== undefined && { currentSecret }),
    });
    return {
      ...registeredMetadata(updated.client, new Date()),
      ...(updated.clientSecret !== undefined && { client_secret: updated.clientSecret }),
      ...(SECRET_METHODS.includes(updated.client.tokenEndpointAuthMethod) && {
        client_secret_expires_at: 0,
      }),
      registration_access_token: updated.registrationAccessToken,
      registration_client_uri: this.#clientUri(clientId),
    };
  }

  /** RFC 7592 §2.3: deletes the client; its credentials stop working at once. */
  @Delete(':clientId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a client registration (RFC 7592)' })
  @ApiBearerAuth('registration-access-token')
  @ApiNoContentResponse()
  async remove(
    @Req() req: HttpRequestLike,
    @Res({ passthrough: true }) res: HttpReplyLike,
    @Param('clientId') clientId: string,
  ): Promise<void> {
    noStore(res);
    await this.#authorizeClient(req, clientId);
    try {
      await this.registry.deleteClient(clientId, `client:${clientId}`);
    } catch (error) {
      // Deleted concurrently: RFC 7592 §2 answers an unknown client with 401.
      if (error instanceof ClientNotFoundError) {
        throw invalidToken('the registration access token is not valid');
      }
      throw error;
    }
  }

  /**
   * RFC 7591 §3: the static token, a stored initial access token (returns its id so the use is
   * counted with the registration), or nothing under open registration.
   */
  async #authorizeRegistration(req: HttpRequestLike): Promise<string | undefined> {
    const registration = this.options.registration ?? {};
    const token = bearerTokenOf(req);
    if (token === undefined) {
      if (registration.openRegistration) return undefined;
      throw invalidToken('registration needs an initial access token');
    }
    if (registration.initialAccessToken && tokensEqual(token, registration.initialAccessToken)) {
      return undefined;
    }
    const stored = await this.initialAccessTokens.check(token);
    if (stored) return stored.id;
    if (registration.openRegistration) return undefined;
    throw invalidInitialAccessToken();
  }

  /** RFC 7592 §2: a wrong token and an unknown client get the same 401. */
  async #authorizeClient(req: HttpRequestLike, clientId: string): Promise<void> {
    const token = bearerTokenOf(req);
    if (token === undefined) throw invalidToken('a registration access token is required');
    if (!(await this.registry.verifyRegistrationAccessToken(clientId, token))) {
      throw invalidToken('the registration access token is not valid');
    }
  }

  #checkMethod(metadata: ClientMetadataWire): void {
    const allowed = this.options.registration?.authMethods ?? DEFAULT_REGISTRATION_AUTH_METHODS;
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    if (!allowed.includes(method)) {
      throw new OAuthError(
        'invalid_client_metadata',
        `token_endpoint_auth_method: ${method} is not offered; use one of ${allowed.join(', ')}`,
      );
    }
  }

  #clientUri(clientId: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, '')}/oauth/register/${encodeURIComponent(clientId)}`;
  }
}
