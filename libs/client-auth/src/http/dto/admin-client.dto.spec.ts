import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { OAuthError } from '../../core/errors.js';
import { adminErrorCodeFor, oauthValidationPipe } from '../validation/oauth-validation.pipe.js';
import {
  AdminCreateClientDto,
  AdminUpdateClientDto,
  ListClientsQueryDto,
} from './admin-client.dto.js';

const pipe = oauthValidationPipe(adminErrorCodeFor);

async function validate<T extends object>(
  metatype: new () => T,
  value: unknown,
  type: 'body' | 'query' = 'body',
): Promise<T> {
  return (await pipe.transform(value, { type, metatype })) as T;
}

async function refusal(
  metatype: new () => object,
  value: unknown,
  type: 'body' | 'query' = 'body',
): Promise<string> {
  try {
    await pipe.transform(value, { type, metatype });
  } catch (error) {
    if (error instanceof OAuthError) return `${error.error} ${error.description}`;
    throw error;
  }
  throw new Error('the value was accepted');
}

describe.each([
  ['AdminCreateClientDto', AdminCreateClientDto],
  ['AdminUpdateClientDto', AdminUpdateClientDto],
])('%s', (_name, Dto) => {
  it('accepts the operator fields with the metadata', async () => {
    const body = {
      client_id: 'billing service 01',
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
      client_name: 'Billing',
      audience_policy: 'strict',
      require_string_audience: true,
      max_assertion_lifetime: 300,
      enabled: false,
    };
    const dto = await validate(Dto, { ...body, secret: 'x', version: 3 });
    expect(dto).toBeInstanceOf(Dto);
    expect({ ...dto }).toEqual(body);
  });

  it('leaves absent operator fields undefined (the service applies defaults)', async () => {
    const dto = await validate(Dto, { audience_policy: null, enabled: null });
    expect(dto.audience_policy).toBeUndefined();
    expect(dto.enabled).toBeUndefined();
    expect(dto.require_string_audience).toBeUndefined();
    expect(dto.token_endpoint_auth_method).toBe('client_secret_basic');
  });

  it.each([
    ['a client_id of 255 characters', { client_id: 'x'.repeat(255) }],
    ['a client_id with every VSCHAR', { client_id: ' !"#~' }],
    ['the shortest lifetime', { max_assertion_lifetime: 1 }],
    ['the longest lifetime', { max_assertion_lifetime: 3600 }],
    ['compat', { audience_policy: 'compat' }],
  ])('accepts %s', async (_case, body) => {
    await expect(validate(Dto, body)).resolves.toBeInstanceOf(Dto);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an empty client_id', { client_id: '' }, 'client_id: must not be empty'],
    [
      'a client_id too long',
      { client_id: 'x'.repeat(256) },
      'client_id: must be 1 to 255 characters long',
    ],
    [
      'a client_id with non-ASCII',
      { client_id: 'clïent' },
      'client_id: must be visible ASCII characters or spaces (RFC 6749 Appendix A.1)',
    ],
    [
      'a client_id with a tab',
      { client_id: 'a\tb' },
      'client_id: must not contain control characters',
    ],
    ['a numeric client_id', { client_id: 12 }, 'client_id: must be a string'],
    [
      'an unknown audience policy',
      { audience_policy: 'lenient' },
      'audience_policy: must be one of compat, strict',
    ],
    [
      'require_string_audience as a string',
      { require_string_audience: 'true' },
      'require_string_audience: must be a boolean',
    ],
    [
      'require_string_audience as a number',
      { require_string_audience: 1 },
      'require_string_audience: must be a boolean',
    ],
    [
      'a zero lifetime',
      { max_assertion_lifetime: 0 },
      'max_assertion_lifetime: must be an integer between 1 and 3600',
    ],
    [
      'a lifetime over an hour',
      { max_assertion_lifetime: 3601 },
      'max_assertion_lifetime: must be an integer between 1 and 3600',
    ],
    [
      'a fractional lifetime',
      { max_assertion_lifetime: 1.5 },
      'max_assertion_lifetime: must be an integer between 1 and 3600',
    ],
    [
      'a lifetime as a string',
      { max_assertion_lifetime: '60' },
      'max_assertion_lifetime: must be an integer between 1 and 3600',
    ],
    ['enabled as a string', { enabled: 'false' }, 'enabled: must be a boolean'],
    [
      'an inherited metadata rule',
      { grant_types: ['implicit'] },
      'grant_types[0]: "implicit" is not a supported grant type; supported: client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    [
      'an inherited redirect rule',
      { redirect_uris: ['x'] },
      'redirect_uris[0]: must be an absolute URI (RFC 3986 §4.3)',
    ],
  ])('refuses %s with invalid_request', async (_case, body, description) => {
    await expect(refusal(Dto, body)).resolves.toBe(`invalid_request ${description}`);
  });
});

describe('ListClientsQueryDto', () => {
  it('defaults to the first 20 clients without filters', async () => {
    const dto = await validate(ListClientsQueryDto, {}, 'query');
    expect(dto).toBeInstanceOf(ListClientsQueryDto);
    expect({ ...dto }).toEqual({ limit: 20, offset: 0 });
  });

  it('converts query strings and keeps the filters', async () => {
    const dto = await validate(
      ListClientsQueryDto,
      {
        limit: '100',
        offset: '40',
        name: 'bill',
        method: 'private_key_jwt',
        status: 'disabled',
        sort: 'x',
      },
      'query',
    );
    expect({ ...dto }).toEqual({
      limit: 100,
      offset: 40,
      name: 'bill',
      method: 'private_key_jwt',
      status: 'disabled',
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['limit 0', { limit: '0' }, 'limit: must be an integer between 1 and 100'],
    ['limit 101', { limit: '101' }, 'limit: must be an integer between 1 and 100'],
    ['a non-numeric limit', { limit: 'ten' }, 'limit: must be an integer between 1 and 100'],
    ['a negative offset', { offset: '-1' }, 'offset: must be an integer between 0 and 1000000'],
    [
      'an offset too large',
      { offset: '1000001' },
      'offset: must be an integer between 0 and 1000000',
    ],
    ['an empty name', { name: '' }, 'name: must not be empty'],
    ['a name too long', { name: 'n'.repeat(256) }, 'name: must be 1 to 255 characters long'],
    ['a repeated name', { name: ['a', 'b'] }, 'name: must be a string'],
    [
      'an unknown method',
      { method: 'mtls' },
      'method: must be one of private_key_jwt, client_secret_jwt, client_secret_basic, client_secret_post, none',
    ],
    ['an unknown status', { status: 'deleted' }, 'status: must be one of enabled, disabled'],
  ])('refuses %s', async (_case, query, description) => {
    await expect(refusal(ListClientsQueryDto, query, 'query')).resolves.toBe(
      `invalid_request ${description}`,
    );
  });
});
