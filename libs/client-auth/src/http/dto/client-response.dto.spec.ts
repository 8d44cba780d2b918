import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, type INestApplication, Post, Put, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  DocumentBuilder,
  type OpenAPIObject,
  SwaggerModule,
} from '@nestjs/swagger';
import {
  AddCredentialDto,
  AdminCreateClientDto,
  AdminUpdateClientDto,
  AuditEventListDto,
  AuthFailureListDto,
  ClientMetadataDto,
  ClientPageDto,
  ClientResponseDto,
  CredentialResponseDto,
  ExpireCredentialDto,
  InitialAccessTokenResponseDto,
  IssueInitialAccessTokenDto,
  ListClientsQueryDto,
  ListQueryDto,
  ReadinessResponseDto,
  RegistrationResponseDto,
  RegistrationUpdateDto,
  RotateKeyDto,
  RotateSecretDto,
  credentialDisplayStatus,
} from './index.js';

describe('credentialDisplayStatus', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const at = (offsetSeconds: number): Date => new Date(now.getTime() + offsetSeconds * 1000);

  it.each<[string, string, Parameters<typeof credentialDisplayStatus>[0]]>([
    ['no window', 'active', { status: 'active' }],
    ['started, no expiry', 'active', { status: 'active', notBefore: at(-60) }],
    ['starting exactly now', 'active', { status: 'active', notBefore: now }],
    ['not started yet', 'not_yet_valid', { status: 'active', notBefore: at(1) }],
    ['expiring later (rotation overlap)', 'expiring', { status: 'active', expiresAt: at(3600) }],
    ['expiring exactly now', 'expired', { status: 'active', expiresAt: now }],
    ['expired', 'expired', { status: 'active', notBefore: at(-7200), expiresAt: at(-1) }],
    ['revoked, even while in its window', 'revoked', { status: 'revoked', expiresAt: at(3600) }],
    ['revoked before it started', 'revoked', { status: 'revoked', notBefore: at(60) }],
  ])('%s → %s', (_case, expected, credential) => {
    expect(credentialDisplayStatus(credential, now)).toBe(expected);
  });
});

@Controller('docs-test')
class DocumentedController {
  @Post('register')
  @ApiCreatedResponse({ type: RegistrationResponseDto })
  register(@Body() _body: ClientMetadataDto): void {}

  @Put('register')
  @ApiOkResponse({ type: RegistrationResponseDto })
  update(@Body() _body: RegistrationUpdateDto): void {}

  @Get('clients')
  @ApiOkResponse({ type: ClientPageDto })
  list(@Query() _query: ListClientsQueryDto): void {}

  @Post('clients')
  @ApiCreatedResponse({ type: ClientResponseDto })
  create(@Body() _body: AdminCreateClientDto): void {}

  @Put('clients')
  replace(@Body() _body: AdminUpdateClientDto): void {}

  @Post('credentials')
  @ApiCreatedResponse({ type: CredentialResponseDto })
  add(@Body() _body: AddCredentialDto): void {}

  @Post('rotate-key')
  rotateKey(@Body() _body: RotateKeyDto): void {}

  @Post('expire')
  expire(@Body() _body: ExpireCredentialDto): void {}

  @Post('rotate-secret')
  rotateSecret(@Body() _body: RotateSecretDto): void {}

  @Post('tokens')
  @ApiCreatedResponse({ type: InitialAccessTokenResponseDto })
  issue(@Body() _body: IssueInitialAccessTokenDto): void {}

  @Get('events')
  @ApiOkResponse({ type: AuditEventListDto })
  events(@Query() _query: ListQueryDto): void {}

  @Get('failures')
  @ApiOkResponse({ type: AuthFailureListDto })
  failures(@Query() _query: ListQueryDto): void {}

  @Get('readiness')
  @ApiOkResponse({ type: ReadinessResponseDto })
  readiness(): void {}
}

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  maxLength?: number;
  maxItems?: number;
  maximum?: number;
  minimum?: number;
  format?: string;
  default?: unknown;
  $ref?: string;
  allOf?: Schema[];
};

describe('OpenAPI documents (the DTOs are the single source)', () => {
  let app: INestApplication;
  let document: OpenAPIObject;
  let schemas: Record<string, Schema>;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [DocumentedController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('test').build());
    schemas = document.components!.schemas as Record<string, Schema>;
  });

  afterAll(async () => {
    await app.close();
  });

  it('documents the RFC 7591 metadata with its rules', () => {
    const metadata = schemas.ClientMetadataDto!.properties!;
    expect(Object.keys(metadata).sort()).toEqual(
      [
        'client_name',
        'client_uri',
        'contacts',
        'grant_types',
        'jwks',
        'jwks_uri',
        'logo_uri',
        'policy_uri',
        'redirect_uris',
        'response_types',
        'scope',
        'software_id',
        'software_statement',
        'software_version',
        'token_endpoint_auth_method',
        'token_endpoint_auth_signing_alg',
        'tos_uri',
      ].sort(),
    );
    expect(schemas.ClientMetadataDto!.required ?? []).toEqual([]);
    expect(metadata.redirect_uris).toMatchObject({
      type: 'array',
      maxItems: 20,
      items: { type: 'string', format: 'uri', maxLength: 2048 },
    });
    expect(metadata.token_endpoint_auth_method).toMatchObject({
      enum: [
        'private_key_jwt',
        'client_secret_jwt',
        'client_secret_basic',
        'client_secret_post',
        'none',
      ],
      default: 'client_secret_basic',
    });
    expect(metadata.token_endpoint_auth_signing_alg!.enum).not.toContain('none');
    expect(metadata.jwks).toMatchObject({
      type: 'object',
      required: ['keys'],
      properties: { keys: { type: 'array', maxItems: 100 } },
    });
  });

  it('documents a cap on every request string, array and integer', () => {
    const requests = [
      'ClientMetadataDto',
      'RegistrationUpdateDto',
      'AdminCreateClientDto',
      'AdminUpdateClientDto',
      'AddCredentialDto',
      'RotateKeyDto',
      'ExpireCredentialDto',
      'RotateSecretDto',
      'IssueInitialAccessTokenDto',
    ];
    const uncapped: string[] = [];
    for (const name of requests) {
      for (const [field, schema] of Object.entries(schemas[name]!.properties!)) {
        const capped =
          schema.enum !== undefined ||
          schema.format === 'date-time' ||
          schema.type === 'boolean' ||
          schema.type === 'object' ||
          (schema.type === 'string' && schema.maxLength !== undefined) ||
          (schema.type === 'array' &&
            schema.maxItems !== undefined &&
            (schema.items?.enum !== undefined ||
              schema.items?.maxLength !== undefined ||
              schema.maxItems === 0)) ||
          (schema.type === 'integer' && schema.maximum !== undefined);
        if (!capped) uncapped.push(`${name}.${field}`);
      }
    }
    expect(uncapped).toEqual([]);
  });

  it('documents the admin fields on top of the inherited metadata', () => {
    for (const name of ['AdminCreateClientDto', 'AdminUpdateClientDto']) {
      const properties = schemas[name]!.properties!;
      expect(properties.redirect_uris).toBeDefined();
      expect(properties.client_id).toMatchObject({ type: 'string', maxLength: 255 });
      expect(properties.audience_policy).toMatchObject({ enum: ['compat', 'strict'] });
      expect(properties.max_assertion_lifetime).toMatchObject({
        type: 'integer',
        minimum: 1,
        maximum: 3600,
      });
    }
    expect(schemas.RegistrationUpdateDto!.required).toEqual(['client_id']);
  });

  it('documents list queries as bounded parameters', () => {
    const parameters = (document.paths['/docs-test/clients']!.get!.parameters ?? []) as {
      name: string;
      in: string;
      required: boolean;
      schema: Schema;
    }[];
    const byName = Object.fromEntries(parameters.map((parameter) => [parameter.name, parameter]));
    expect(Object.keys(byName).sort()).toEqual(['limit', 'method', 'name', 'offset', 'status']);
    expect(byName.limit).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    });
    expect(byName.status!.schema.enum).toEqual(['enabled', 'disabled']);
  });

  it('keeps secrets out of every read shape but the one-time responses', () => {
    const secretish = /secret|digest|cipher|private|password|registration_access_token/;
    const readShapes = [
      'ClientResponseDto',
      'CredentialResponseDto',
      'AuditEventResponseDto',
      'AuthFailureResponseDto',
      'ReadinessResponseDto',
    ];
    for (const name of readShapes) {
      expect(Object.keys(schemas[name]!.properties!).filter((key) => secretish.test(key))).toEqual(
        [],
      );
    }
    expect(Object.keys(schemas.RegistrationResponseDto!.properties!)).toEqual(
      expect.arrayContaining([
        'client_id',
        'client_id_issued_at',
        'client_secret',
        'client_secret_expires_at',
        'registration_access_token',
        'registration_client_uri',
        'token_endpoint_auth_method',
        'grant_types',
      ]),
    );
    expect(schemas.RegistrationResponseDto!.properties!.client_id_issued_at!.type).toBe('integer');
    expect(schemas.ClientResponseDto!.properties!.created_at).toMatchObject({
      type: 'string',
      format: 'date-time',
    });
  });

  it('documents the credential statuses as displayed', () => {
    expect(schemas.CredentialResponseDto!.properties!.status!.enum).toEqual([
      'active',
      'expiring',
      'expired',
      'revoked',
      'not_yet_valid',
    ]);
    expect(schemas.ClientPageDto!.required).toEqual(
      expect.arrayContaining(['items', 'total', 'limit', 'offset']),
    );
  });
});
