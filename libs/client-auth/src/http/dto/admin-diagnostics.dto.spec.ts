import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { OAuthError } from '../../core/errors.js';
import { adminErrorCodeFor, oauthValidationPipe } from '../validation/oauth-validation.pipe.js';
import { ListQueryDto } from './admin-diagnostics.dto.js';

const pipe = oauthValidationPipe(adminErrorCodeFor);

async function validate(value: unknown): Promise<ListQueryDto> {
  return (await pipe.transform(value, { type: 'query', metatype: ListQueryDto })) as ListQueryDto;
}

async function refusal(value: unknown): Promise<string> {
  try {
    await validate(value);
  } catch (error) {
    if (error instanceof OAuthError) return `${error.error} ${error.description}`;
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('ListQueryDto', () => {
  it('defaults to the newest 50 entries of every client', async () => {
    const dto = await validate({});
    expect(dto).toBeInstanceOf(ListQueryDto);
    expect({ ...dto }).toEqual({ limit: 50 });
  });

  it('converts limit and before, and keeps client_id', async () => {
    const dto = await validate({
      limit: '500',
      client_id: 'billing',
      before: '2030-01-01T00:00:00.123Z',
      offset: '3',
    });
    expect({ ...dto }).toEqual({
      limit: 500,
      client_id: 'billing',
      before: new Date('2030-01-01T00:00:00.123Z'),
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['limit 0', { limit: '0' }, 'limit: must be an integer between 1 and 500'],
    ['limit 501', { limit: '501' }, 'limit: must be an integer between 1 and 500'],
    ['an empty client_id', { client_id: '' }, 'client_id: must not be empty'],
    [
      'a client_id too long',
      { client_id: 'c'.repeat(256) },
      'client_id: must be 1 to 255 characters long',
    ],
    [
      'before as epoch milliseconds',
      { before: '1893456000000' },
      'before: must be an RFC 3339 date-time with a time zone, such as 2030-01-01T00:00:00Z',
    ],
    [
      'before without a time zone',
      { before: '2030-01-01 00:00:00' },
      'before: must be an RFC 3339 date-time with a time zone, such as 2030-01-01T00:00:00Z',
    ],
    [
      'a repeated before',
      { before: ['2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z'] },
      'before: must be an RFC 3339 date-time with a time zone, such as 2030-01-01T00:00:00Z',
    ],
  ])('refuses %s', async (_case, query, description) => {
    await expect(refusal(query)).resolves.toBe(`invalid_request ${description}`);
  });
});
