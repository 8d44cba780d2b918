import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Body,
  Controller,
  type INestApplication,
  Param,
  Post,
  Query,
  Get,
  UsePipes,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { ValidateNested, type ValidationError } from 'class-validator';
import request from 'supertest';
import { OAuthError } from '../../core/errors.js';
import { OAuthExceptionFilter } from '../../nest/oauth-exception.filter.js';
import { ClientMetadataDto } from '../dto/client-metadata.dto.js';
import { FieldRule, OptionalField, QueryInteger } from './field-rule.decorator.js';
import { integerInRange, shortText } from './field-rules.js';
import {
  OAuthValidationPipe,
  adminErrorCodeFor,
  firstValidationProblem,
  oauthValidationPipe,
  registrationErrorCodeFor,
} from './oauth-validation.pipe.js';

class ItemDto {
  @FieldRule(shortText)
  name!: string;
}

class NestedDto {
  @ValidateNested({ each: true })
  @Type(() => ItemDto)
  items!: ItemDto[];
}

class PagingDto {
  @QueryInteger()
  @OptionalField(10)
  @FieldRule(integerInRange(1, 50))
  limit: number = 10;
}

class OptionalBodyDto {
  @OptionalField(0)
  @FieldRule(integerInRange(0, 5))
  count: number = 0;
}

async function refusal(
  pipe: OAuthValidationPipe,
  value: unknown,
  metatype: new () => object,
  type: 'body' | 'query' = 'body',
): Promise<{ error: string; description: string }> {
  try {
    await pipe.transform(value, { type, metatype });
  } catch (error) {
    if (error instanceof OAuthError) return { error: error.error, description: error.description };
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('firstValidationProblem', () => {
  const error = (
    property: string,
    constraints?: Record<string, string>,
    children: ValidationError[] = [],
  ): ValidationError => ({ property, constraints, children });

  it.each<[string, ValidationError[], { path: string; message: string } | undefined]>([
    [
      'a top-level field',
      [error('scope', { rule: 'must not be empty' })],
      { path: 'scope', message: 'must not be empty' },
    ],
    [
      'the first of several',
      [error('a', { x: 'first' }), error('b', { y: 'second' })],
      { path: 'a', message: 'first' },
    ],
    [
      'the first constraint of a field',
      [error('a', { x: 'one', y: 'two' })],
      { path: 'a', message: 'one' },
    ],
    [
      'a nested array element',
      [
        error('items', undefined, [
          error('1', undefined, [error('name', { r: 'must be a string' })]),
        ]),
      ],
      { path: 'items[1].name', message: 'must be a string' },
    ],
    [
      'a nested object',
      [error('outer', undefined, [error('inner', { r: 'bad' })])],
      { path: 'outer.inner', message: 'bad' },
    ],
    [
      'a sub-path in the message',
      [error('jwks', { r: '.keys[2]: holds the private member "d"' })],
      { path: 'jwks.keys[2]', message: 'holds the private member "d"' },
    ],
    [
      'an index sub-path in the message',
      [error('redirect_uris', { r: '[0]: must not be empty' })],
      { path: 'redirect_uris[0]', message: 'must not be empty' },
    ],
    [
      'a message that only looks like a path',
      [error('a', { r: 'keys[2]: x' })],
      { path: 'a', message: 'keys[2]: x' },
    ],
    ['no message at all', [error('a')], undefined],
  ])('finds %s', (_name, errors, expected) => {
    expect(firstValidationProblem(errors)).toEqual(expected);
  });
});

describe('error codes', () => {
  it.each([
    ['redirect_uris', 'invalid_redirect_uri'],
    ['redirect_uris[3]', 'invalid_redirect_uri'],
    ['software_statement', 'invalid_software_statement'],
    ['jwks.keys[1]', 'invalid_client_metadata'],
    ['redirect_uris_extra', 'invalid_client_metadata'],
    ['', 'invalid_client_metadata'],
  ])('registration: %s → %s (RFC 7591 §3.2.2)', (path, code) => {
    expect(registrationErrorCodeFor(path)).toBe(code);
  });

  it.each(['redirect_uris', 'software_statement', 'limit', ''])(
    'admin: %s → invalid_request',
    (path) => {
      expect(adminErrorCodeFor(path)).toBe('invalid_request');
    },
  );
});

describe('OAuthValidationPipe', () => {
  const registration = new OAuthValidationPipe();
  const admin = oauthValidationPipe(adminErrorCodeFor, { requireBody: false });

  it('names nested class fields with their index', async () => {
    await expect(
      refusal(registration, { items: [{ name: 'a' }, { name: '' }] }, NestedDto),
    ).resolves.toEqual({
      error: 'invalid_client_metadata',
      description: 'items[1].name: must not be empty',
    });
  });

  it('drops unknown properties of nested classes too', async () => {
    const dto = (await registration.transform(
      { items: [{ name: 'a', extra: 1 }], extra: 2 },
      { type: 'body', metatype: NestedDto },
    )) as NestedDto;
    expect(dto).toEqual({ items: [{ name: 'a' }] });
    expect(dto.items[0]).toBeInstanceOf(ItemDto);
  });

  it('answers admin failures with invalid_request, whatever the field', async () => {
    await expect(
      refusal(admin, { redirect_uris: ['http://a.example/cb'] }, ClientMetadataDto),
    ).resolves.toEqual({
      error: 'invalid_request',
      description:
        'redirect_uris[0]: may use http only with a loopback host (RFC 8252 §7.3); use https',
    });
    await expect(refusal(admin, [1], ClientMetadataDto)).resolves.toEqual({
      error: 'invalid_request',
      description: 'request body must be a JSON object',
    });
  });

  it('treats a missing body as {} only when told to', async () => {
    await expect(
      admin.transform(undefined, { type: 'body', metatype: OptionalBodyDto }),
    ).resolves.toEqual({ count: 0 });
    await expect(refusal(registration, undefined, OptionalBodyDto)).resolves.toEqual({
      error: 'invalid_client_metadata',
      description: 'request body must be a JSON object',
    });
    await expect(refusal(admin, null, OptionalBodyDto)).resolves.toEqual({
      error: 'invalid_request',
      description: 'request body must be a JSON object',
    });
  });

  it('refuses a body that is a class instance rather than parsed JSON', async () => {
    await expect(refusal(registration, new Date(), ClientMetadataDto)).resolves.toEqual({
      error: 'invalid_client_metadata',
      description: 'request body must be a JSON object',
    });
    await expect(refusal(registration, Buffer.from('{}'), ClientMetadataDto)).resolves.toEqual({
      error: 'invalid_client_metadata',
      description: 'request body must be a JSON object',
    });
  });

  it('accepts a body without a prototype (as some parsers produce)', async () => {
    const body = Object.assign(Object.create(null) as object, { client_name: 'A' });
    const dto = (await registration.transform(body, {
      type: 'body',
      metatype: ClientMetadataDto,
    })) as ClientMetadataDto;
    expect(dto.client_name).toBe('A');
  });

  it.each([
    ['absent', {}, 10],
    ['a decimal string', { limit: '25' }, 25],
    [
      'a null-prototype query object',
      Object.assign(Object.create(null) as object, { limit: '7' }),
      7,
    ],
  ])('converts query integers: %s', async (_name, query, limit) => {
    const dto = (await admin.transform(query, { type: 'query', metatype: PagingDto })) as PagingDto;
    expect(dto).toBeInstanceOf(PagingDto);
    expect(dto.limit).toBe(limit);
  });

  it.each([
    ['out of range', '51'],
    ['zero', '0'],
    ['exponent notation', '1e1'],
    ['hexadecimal', '0x10'],
    ['surrounding spaces', ' 5'],
    ['empty', ''],
    ['repeated', ['5', '6']],
    ['fractional', '2.5'],
    ['negative', '-1'],
  ])('refuses a query integer that is %s', async (_name, limit) => {
    await expect(refusal(admin, { limit }, PagingDto, 'query')).resolves.toEqual({
      error: 'invalid_request',
      description: 'limit: must be an integer between 1 and 50',
    });
  });

  const nested = (depth: number, leaf: unknown = 1): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it('drops deeply nested unknown properties before any recursive processing', async () => {
    const dto = (await registration.transform(
      { client_name: 'A', junk: nested(100_000) },
      { type: 'body', metatype: ClientMetadataDto },
    )) as ClientMetadataDto;
    expect(dto.client_name).toBe('A');
    expect(Object.keys(dto)).not.toContain('junk');
  });

  it.each([
    [
      'jwks',
      { jwks: { keys: [{ kty: 'EC', x5c: nested(20_000, 'x') }] } },
      'invalid_client_metadata',
    ],
    ['redirect_uris', { redirect_uris: nested(17) }, 'invalid_redirect_uri'],
  ])('refuses a declared property nested too deeply: %s', async (field, body, error) => {
    await expect(refusal(registration, body, ClientMetadataDto)).resolves.toEqual({
      error,
      description: `${field}: is nested too deeply`,
    });
  });

  it('accepts nesting up to the limit', async () => {
    // 16 levels of arrays around a string: within the limit, so the field rule decides.
    await expect(
      refusal(registration, { redirect_uris: nested(16, 'x') }, ClientMetadataDto),
    ).resolves.toEqual({
      error: 'invalid_redirect_uri',
      description: 'redirect_uris[0]: must be a string',
    });
  });

  it('leaves parameters that are not DTOs alone', async () => {
    await expect(
      admin.transform('abc', { type: 'param', metatype: String, data: 'id' }),
    ).resolves.toBe('abc');
  });

  it('keeps submitted values out of the error it throws', async () => {
    const secret = 'vK1p2Vq0-Very-Secret-Value-123456789abcdefghi';
    const caught = await registration
      .transform({ client_name: `${secret}\u0000` }, { type: 'body', metatype: ClientMetadataDto })
      .catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(OAuthError);
    expect(JSON.stringify(caught)).not.toContain(secret);
    expect((caught as OAuthError).description).toBe(
      'client_name: must not contain control characters',
    );
  });
});

@Controller('t')
class TestController {
  @Post('register')
  register(@Body(new OAuthValidationPipe()) body: ClientMetadataDto): object {
    return { received: body };
  }

  @Post('admin/:id/rotate')
  @UsePipes(oauthValidationPipe(adminErrorCodeFor, { requireBody: false }))
  rotate(@Param('id') id: string, @Body() body: OptionalBodyDto): object {
    return { id, count: body.count };
  }

  @Get('admin/list')
  @UsePipes(oauthValidationPipe(adminErrorCodeFor))
  list(@Query() query: PagingDto): object {
    return { limit: query.limit };
  }

  @Post('by-class')
  @UsePipes(OAuthValidationPipe)
  byClass(@Body() body: ClientMetadataDto): object {
    return { received: body };
  }
}

describe('OAuthValidationPipe over HTTP', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [TestController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new OAuthExceptionFilter());
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers a validation failure in the RFC 7591 §3.2.2 format', async () => {
    const response = await request(app.getHttpServer())
      .post('/t/register')
      .send({ redirect_uris: ['https://a.example/cb#frag'] })
      .expect(400);
    expect(response.body).toEqual({
      error: 'invalid_redirect_uri',
      error_description: 'redirect_uris[0]: must not include a fragment (RFC 6749 §3.1.2)',
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('hands the controller a DTO without unknown properties', async () => {
    const response = await request(app.getHttpServer())
      .post('/t/register')
      .send({ client_name: 'A', client_secret: 'mine', foo: { bar: 1 } })
      .expect(201);
    expect(response.body).toEqual({
      received: { client_name: 'A', token_endpoint_auth_method: 'client_secret_basic' },
    });
  });

  it.each([
    // (Express's strict JSON parser already refuses a top-level string or null.)
    ['a JSON array', '[{"client_name":"A"}]', 'application/json'],
    ['a body that is not JSON', 'client_name=A', 'text/plain'],
  ])('refuses %s as the registration body', async (_name, payload, type) => {
    const response = await request(app.getHttpServer())
      .post('/t/register')
      .set('Content-Type', type)
      .send(payload);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'invalid_client_metadata',
      error_description: 'request body must be a JSON object',
    });
  });

  it('accepts an admin request without a body and applies defaults', async () => {
    const response = await request(app.getHttpServer()).post('/t/admin/c1/rotate').expect(201);
    expect(response.body).toEqual({ id: 'c1', count: 0 });
  });

  it('answers admin failures with invalid_request', async () => {
    const response = await request(app.getHttpServer())
      .post('/t/admin/c1/rotate')
      .send({ count: '3' })
      .expect(400);
    expect(response.body).toEqual({
      error: 'invalid_request',
      error_description: 'count: must be an integer between 0 and 5',
    });
  });

  it('works when given to @UsePipes as a class (Nest instantiates it with the defaults)', async () => {
    const response = await request(app.getHttpServer())
      .post('/t/by-class')
      .send({ software_statement: 'x' })
      .expect(400);
    expect(response.body.error).toBe('invalid_software_statement');
  });

  it('converts and checks query strings', async () => {
    await request(app.getHttpServer())
      .get('/t/admin/list?limit=30')
      .expect(200)
      .expect({ limit: 30 });
    await request(app.getHttpServer()).get('/t/admin/list').expect(200).expect({ limit: 10 });
    const response = await request(app.getHttpServer())
      .get('/t/admin/list?limit=30&limit=31')
      .expect(400);
    expect(response.body).toEqual({
      error: 'invalid_request',
      error_description: 'limit: must be an integer between 1 and 50',
    });
  });
});
