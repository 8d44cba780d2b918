import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { OAuthError } from '../../core/errors.js';
import { OAuthValidationPipe } from '../validation/oauth-validation.pipe.js';
import { RegistrationUpdateDto } from './registration.dto.js';

const pipe = new OAuthValidationPipe();

async function validate(value: unknown): Promise<RegistrationUpdateDto> {
  return (await pipe.transform(value, {
    type: 'body',
    metatype: RegistrationUpdateDto,
  })) as RegistrationUpdateDto;
}

async function refusal(value: unknown): Promise<{ error: string; description: string }> {
  try {
    await validate(value);
  } catch (error) {
    if (error instanceof OAuthError) return { error: error.error, description: error.description };
    throw error;
  }
  throw new Error('the value was accepted');
}

describe('RegistrationUpdateDto (RFC 7592 §2.2)', () => {
  it('accepts client_id and client_secret with the metadata', async () => {
    const dto = await validate({
      client_id: 's6BhdRkqt3',
      client_secret: 'cf136dc3c1fc93f31185e5885805d',
      client_name: 'Renamed',
      grant_types: ['client_credentials'],
    });
    expect(dto).toBeInstanceOf(RegistrationUpdateDto);
    expect({ ...dto }).toEqual({
      client_id: 's6BhdRkqt3',
      client_secret: 'cf136dc3c1fc93f31185e5885805d',
      client_name: 'Renamed',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  });

  it('drops the fields a client must not send (RFC 7592 §2.2)', async () => {
    const dto = await validate({
      client_id: 'c1',
      registration_access_token: 'old-token',
      registration_client_uri: 'https://as.example/register/c1',
      client_id_issued_at: 1,
      client_secret_expires_at: 0,
    });
    expect(Object.entries(dto).filter(([, value]) => value !== undefined)).toEqual([
      ['token_endpoint_auth_method', 'client_secret_basic'],
      ['client_id', 'c1'],
    ]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['no client_id', { client_name: 'A' }, 'invalid_client_metadata', 'client_id: is required'],
    [
      'a null client_id',
      { client_id: null },
      'invalid_client_metadata',
      'client_id: must be a string',
    ],
    [
      'an empty client_id',
      { client_id: '' },
      'invalid_client_metadata',
      'client_id: must not be empty',
    ],
    [
      'a client_secret that is not a string',
      { client_id: 'c1', client_secret: 12 },
      'invalid_client_metadata',
      'client_secret: must be a string',
    ],
    [
      'a client_secret too long',
      { client_id: 'c1', client_secret: 's'.repeat(513) },
      'invalid_client_metadata',
      'client_secret: must be 1 to 512 characters long',
    ],
    [
      'a bad redirect URI',
      { client_id: 'c1', redirect_uris: ['https://a.example/#x'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must not include a fragment (RFC 6749 §3.1.2)',
    ],
    [
      'a bad software statement',
      { client_id: 'c1', software_statement: 'x.y' },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
  ])('refuses %s', async (_case, body, error, description) => {
    await expect(refusal(body)).resolves.toEqual({ error, description });
  });

  it('never echoes the submitted secret', async () => {
    const secret = `${'s'.repeat(600)}-secret`;
    const { description } = await refusal({ client_id: 'c1', client_secret: secret });
    expect(description).not.toContain('-secret');
  });
});
