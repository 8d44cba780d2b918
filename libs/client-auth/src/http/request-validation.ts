import type { Type } from '@nestjs/common';
import type { HttpRequestLike } from '../nest/http-platform.js';
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

/** `application/json`, with or without parameters (RFC 8259 §11). */
const JSON_MEDIA_TYPE = /^\s*application\/json\s*(?:;|$)/i;

/**
 * The parsed body of a request that says it is `application/json`; `undefined` when the request
 * has no body; `null` — refused by the validation as "request body must be a JSON object" — for
 * a body of any other media type. RFC 7591 §3.1 and RFC 7592 §2.2 requests (and the admin API's)
 * are JSON, but a host application may also parse form bodies for its token endpoint (RFC 6749
 * §3.2, as the reference server does), which would otherwise reach the validation as a flat
 * object of strings and be taken for metadata.
 */
export function jsonBodyOf(req: HttpRequestLike, body: unknown): unknown {
  const type = req.headers['content-type'];
  if (typeof type === 'string' && JSON_MEDIA_TYPE.test(type)) return body;
  const length = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return hasBody ? null : undefined;
}

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
