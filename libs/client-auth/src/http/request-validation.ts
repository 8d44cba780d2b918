import type { Type } from '@nestjs/common';
import { OAuthError } from '../core/errors.js';
import { ClientMetadataDto } from './dto/index.js';
import {
  adminErrorCodeFor,
  OAuthValidationPipe,
  registrationErrorCodeFor,
} from './validation/oauth-validation.pipe.js';

const registrationPipe = new OAuthValidationPipe({ errorCodeFor: registrationErrorCodeFor });
const adminBodyPipe = new OAuthValidationPipe({ errorCodeFor: adminErrorCodeFor });
const adminOptionalBodyPipe = new OAuthValidationPipe({
  errorCodeFor: adminErrorCodeFor,
  requireBody: false,
});

/**
 * Validates an RFC 7591 registration (or RFC 7592 update) body against {@link ClientMetadataDto}.
 * Errors: RFC 7591 §3.2.2 codes naming the field.
 */
export async function validateRegistrationBody(body: unknown): Promise<ClientMetadataDto> {
  return (await registrationPipe.transform(body, {
    type: 'body',
    metatype: ClientMetadataDto,
  })) as ClientMetadataDto;
}

/** Validates an admin API body; `invalid_request` naming the field. */
export async function validateAdminBody<T extends object>(
  body: unknown,
  dto: Type<T>,
  options: { readonly optional?: boolean } = {},
): Promise<T> {
  const pipe = options.optional ? adminOptionalBodyPipe : adminBodyPipe;
  return (await pipe.transform(options.optional && body === undefined ? {} : body, {
    type: 'body',
    metatype: dto,
  })) as T;
}

/** Validates admin API query parameters; `invalid_request` naming the parameter. */
export async function validateAdminQuery<T extends object>(
  query: unknown,
  dto: Type<T>,
): Promise<T> {
  return (await adminBodyPipe.transform(query ?? {}, { type: 'query', metatype: dto })) as T;
}

/** A date the DTO layer produced, checked once more (never an invalid Date). */
export function parseWireDate(value: Date | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new OAuthError('invalid_request', `${field}: must be a valid date`);
  }
  return value;
}
