import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import { OAuthError } from '../../core/errors.js';
import { adminErrorCodeFor, oauthValidationPipe } from '../validation/oauth-validation.pipe.js';
import {
  AddCredentialDto,
  ExpireCredentialDto,
  RotateKeyDto,
  RotateSecretDto,
} from './admin-credential.dto.js';

const pipe = oauthValidationPipe(adminErrorCodeFor, { requireBody: false });

async function validate<T extends object>(metatype: new () => T, value: unknown): Promise<T> {
  return (await pipe.transform(value, { type: 'body', metatype })) as T;
}

async function refusal(metatype: new () => object, value: unknown): Promise<string> {
  try {
    await pipe.transform(value, { type: 'body', metatype });
  } catch (error) {
    if (error instanceof OAuthError) return `${error.error} ${error.description}`;
    throw error;
  }
  throw new Error('the value was accepted');
}

const ec = fixtureKey('ES256').publicJwk;
const rsa = fixtureKey('PS256').publicJwk;
const ecPrivate = fixtureKey('ES256').privateJwk;
const DATE_PROBLEM = 'must be an RFC 3339 date-time with a time zone, such as 2030-01-01T00:00:00Z';

describe('AddCredentialDto', () => {
  it('accepts a public key with a validity window, as Dates', async () => {
    const dto = await validate(AddCredentialDto, {
      jwk: ec,
      not_before: '2030-01-01T00:00:00Z',
      expires_at: '2030-06-01T12:30:00.250+02:00',
    });
    expect(dto.jwk).toEqual(ec);
    expect(dto.not_before).toEqual(new Date('2030-01-01T00:00:00.000Z'));
    expect(dto.expires_at).toEqual(new Date('2030-06-01T10:30:00.250Z'));
  });

  it('accepts a key alone', async () => {
    const dto = await validate(AddCredentialDto, { jwk: rsa });
    expect(dto.not_before).toBeUndefined();
    expect(dto.expires_at).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no key', {}, 'jwk: is required'],
    [
      'a key that is a string',
      { jwk: JSON.stringify(ec) },
      'jwk: must be a JWK: a JSON object (RFC 7517 §4)',
    ],
    [
      'a key set instead of a key',
      { jwk: { keys: [ec] } },
      'jwk: "kty" must be a non-empty string',
    ],
    [
      'a private key',
      { jwk: ecPrivate },
      'jwk: holds the private member "d"; only public keys are accepted',
    ],
    [
      'a symmetric key',
      { jwk: { kty: 'oct', k: 'AAAA' } },
      'jwk: holds the private member "k"; only public keys are accepted',
    ],
    [
      'a key whose alg does not fit',
      { jwk: { ...ec, alg: 'ES384' } },
      'jwk: "alg" ES384 does not fit the key (EC P-256)',
    ],
    [
      'an unregistered alg',
      { jwk: { ...ec, alg: 'my-alg' } },
      'jwk: "alg" is not a JWS signature algorithm (RFC 7518 §3.1)',
    ],
    [
      'epoch seconds for not_before',
      { jwk: ec, not_before: 1893456000 },
      `not_before: ${DATE_PROBLEM}`,
    ],
    [
      'a date without a time zone',
      { jwk: ec, not_before: '2030-01-01T00:00:00' },
      `not_before: ${DATE_PROBLEM}`,
    ],
    ['a date without a time', { jwk: ec, expires_at: '2030-01-01' }, `expires_at: ${DATE_PROBLEM}`],
    [
      'a day that does not exist',
      { jwk: ec, expires_at: '2030-02-30T00:00:00Z' },
      `expires_at: ${DATE_PROBLEM}`,
    ],
    [
      'an expiry before the start',
      { jwk: ec, not_before: '2030-01-02T00:00:00Z', expires_at: '2030-01-01T00:00:00Z' },
      'expires_at: must be later than not_before',
    ],
    [
      'an expiry equal to the start',
      { jwk: ec, not_before: '2030-01-01T00:00:00Z', expires_at: '2030-01-01T01:00:00+01:00' },
      'expires_at: must be later than not_before',
    ],
  ])('refuses %s', async (_case, body, description) => {
    await expect(refusal(AddCredentialDto, body)).resolves.toBe(`invalid_request ${description}`);
  });
});

describe('RotateKeyDto', () => {
  it('defaults the overlap to one day', async () => {
    const dto = await validate(RotateKeyDto, { jwk: ec });
    expect(dto).toEqual({ jwk: ec, overlap_seconds: 86_400 });
  });

  it.each([0, 1, 2_592_000])('accepts an overlap of %i seconds', async (overlap) => {
    expect(
      (await validate(RotateKeyDto, { jwk: ec, overlap_seconds: overlap })).overlap_seconds,
    ).toBe(overlap);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no key', { overlap_seconds: 10 }, 'jwk: is required'],
    [
      'a negative overlap',
      { jwk: ec, overlap_seconds: -1 },
      'overlap_seconds: must be an integer between 0 and 2592000',
    ],
    [
      'an overlap over 30 days',
      { jwk: ec, overlap_seconds: 2_592_001 },
      'overlap_seconds: must be an integer between 0 and 2592000',
    ],
    [
      'an overlap as a string',
      { jwk: ec, overlap_seconds: '60' },
      'overlap_seconds: must be an integer between 0 and 2592000',
    ],
  ])('refuses %s', async (_case, body, description) => {
    await expect(refusal(RotateKeyDto, body)).resolves.toBe(`invalid_request ${description}`);
  });
});

describe('ExpireCredentialDto', () => {
  it('accepts an empty body (expire now)', async () => {
    expect((await validate(ExpireCredentialDto, undefined)).at).toBeUndefined();
    expect((await validate(ExpireCredentialDto, {})).at).toBeUndefined();
  });

  it('converts `at`', async () => {
    expect((await validate(ExpireCredentialDto, { at: '2030-01-01t00:00:00z' })).at).toEqual(
      new Date('2030-01-01T00:00:00Z'),
    );
  });

  it.each([
    ['a number', 0],
    ['not a date', 'tomorrow'],
    ['an hour 24', '2030-01-01T24:00:00Z'],
    ['a leap second', '2030-06-30T23:59:60Z'],
  ])('refuses `at` that is %s', async (_case, at) => {
    await expect(refusal(ExpireCredentialDto, { at })).resolves.toBe(
      `invalid_request at: ${DATE_PROBLEM}`,
    );
  });
});

describe('RotateSecretDto', () => {
  it('defaults the overlap to 0 (the old secret is revoked at once)', async () => {
    expect(await validate(RotateSecretDto, undefined)).toEqual({ overlap_seconds: 0 });
    expect(await validate(RotateSecretDto, { overlap_seconds: null })).toEqual({
      overlap_seconds: 0,
    });
  });

  it('accepts an overlap', async () => {
    expect(await validate(RotateSecretDto, { overlap_seconds: 3600 })).toEqual({
      overlap_seconds: 3600,
    });
  });

  it.each([
    ['negative', -5],
    ['too long', 2_592_001],
    ['fractional', 0.5],
    ['a boolean', true],
  ])('refuses an overlap that is %s', async (_case, overlap) => {
    await expect(refusal(RotateSecretDto, { overlap_seconds: overlap })).resolves.toBe(
      'invalid_request overlap_seconds: must be an integer between 0 and 2592000',
    );
  });
});
