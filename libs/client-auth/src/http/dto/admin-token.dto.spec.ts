import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { OAuthError } from '../../core/errors.js';
import { adminErrorCodeFor, oauthValidationPipe } from '../validation/oauth-validation.pipe.js';
import { IssueInitialAccessTokenDto } from './admin-token.dto.js';

const pipe = oauthValidationPipe(adminErrorCodeFor, { requireBody: false });

async function validate(value: unknown): Promise<IssueInitialAccessTokenDto> {
  return (await pipe.transform(value, {
    type: 'body',
    metatype: IssueInitialAccessTokenDto,
  })) as IssueInitialAccessTokenDto;
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

describe('IssueInitialAccessTokenDto', () => {
  it('accepts an empty body: no expiry, unlimited uses', async () => {
    const dto = await validate(undefined);
    expect(dto).toBeInstanceOf(IssueInitialAccessTokenDto);
    expect({ ...dto }).toEqual({});
  });

  it('accepts every limit and drops the rest', async () => {
    const dto = await validate({
      expires_in: 3600,
      max_uses: 5,
      description: 'staging',
      token: 'chosen',
    });
    expect({ ...dto }).toEqual({ expires_in: 3600, max_uses: 5, description: 'staging' });
  });

  it.each([
    ['the shortest lifetime', { expires_in: 60 }],
    ['the longest lifetime', { expires_in: 31_536_000 }],
    ['one use', { max_uses: 1 }],
    ['a million uses', { max_uses: 1_000_000 }],
    ['a description of 255 characters', { description: 'd'.repeat(255) }],
  ])('accepts %s', async (_case, body) => {
    await expect(validate(body)).resolves.toBeInstanceOf(IssueInitialAccessTokenDto);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a lifetime under a minute',
      { expires_in: 59 },
      'expires_in: must be an integer between 60 and 31536000',
    ],
    [
      'a lifetime over a year',
      { expires_in: 31_536_001 },
      'expires_in: must be an integer between 60 and 31536000',
    ],
    [
      'a lifetime as a string',
      { expires_in: '3600' },
      'expires_in: must be an integer between 60 and 31536000',
    ],
    ['zero uses', { max_uses: 0 }, 'max_uses: must be an integer between 1 and 1000000'],
    [
      'too many uses',
      { max_uses: 1_000_001 },
      'max_uses: must be an integer between 1 and 1000000',
    ],
    ['fractional uses', { max_uses: 2.5 }, 'max_uses: must be an integer between 1 and 1000000'],
    ['an empty description', { description: '' }, 'description: must not be empty'],
    [
      'a description too long',
      { description: 'd'.repeat(256) },
      'description: must be 1 to 255 characters long',
    ],
    [
      'a description with a control character',
      { description: 'a\u001bb' },
      'description: must not contain control characters',
    ],
  ])('refuses %s', async (_case, body, description) => {
    await expect(refusal(body)).resolves.toBe(`invalid_request ${description}`);
  });
});
