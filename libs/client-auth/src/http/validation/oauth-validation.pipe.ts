import { type ArgumentMetadata, Injectable, Optional, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, type ValidationError } from 'class-validator';
import { OAuthError, type OAuthErrorCode } from '../../core/errors.js';
import { nestsDeeperThan } from '../../core/jwks/jwks-validation.js';

/** Chooses the OAuth error code for a failing field path (`''` for the body as a whole). */
export type ValidationErrorCodeFor = (fieldPath: string) => OAuthErrorCode;

/**
 * Error codes of RFC 7591 §3.2.2 (registration, RFC 7592 update): `invalid_redirect_uri` for
 * `redirect_uris`, `invalid_software_statement` for `software_statement`, otherwise
 * `invalid_client_metadata`.
 */
export const registrationErrorCodeFor: ValidationErrorCodeFor = (fieldPath) => {
  const field = /^[^.[]*/.exec(fieldPath)![0];
  if (field === 'redirect_uris') return 'invalid_redirect_uri';
  if (field === 'software_statement') return 'invalid_software_statement';
  return 'invalid_client_metadata';
};

/** Error code of the admin REST API: always `invalid_request` (RFC 6749 §5.2 style). */
export const adminErrorCodeFor: ValidationErrorCodeFor = () => 'invalid_request';

/** Options of {@link OAuthValidationPipe}. */
export interface OAuthValidationPipeOptions {
  /** Error code per failing field. Default {@link registrationErrorCodeFor}. */
  readonly errorCodeFor?: ValidationErrorCodeFor;
  /**
   * Refuse a request without a body (no JSON `Content-Type`, so nothing was parsed). Default
   * true: RFC 7591 §3.1 requests carry a JSON object. Endpoints whose body fields are all optional
   * (rotation, expiry) pass false and treat a missing body as `{}`.
   */
  readonly requireBody?: boolean;
}

/** The first failing field of a validation, as a path (`jwks.keys[1]`) and a problem. */
export interface ValidationProblem {
  readonly path: string;
  readonly message: string;
}

/** Sub-path a field rule's problem may start with (see `field-rules.ts`), then `": "`. */
const MESSAGE_SUBPATH = /^((?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)+): ([\s\S]*)$/;

/**
 * The first problem in class-validator's error tree, depth first, with its field path: array
 * indexes as `[i]`, nested properties as `.name`, continued by the sub-path a problem message may
 * start with. Undefined when no error carries a message.
 */
export function firstValidationProblem(
  errors: readonly ValidationError[],
  parentPath = '',
): ValidationProblem | undefined {
  for (const error of errors) {
    const property = String(error.property ?? '');
    const path =
      property === ''
        ? parentPath
        : /^\d+$/.test(property)
          ? `${parentPath}[${property}]`
          : parentPath === ''
            ? property
            : `${parentPath}.${property}`;
    const message = error.constraints ? Object.values(error.constraints)[0] : undefined;
    if (message !== undefined) {
      const sub = MESSAGE_SUBPATH.exec(message);
      return sub ? { path: `${path}${sub[1]}`, message: sub[2]! } : { path, message };
    }
    const nested = firstValidationProblem(error.children ?? [], path);
    if (nested) return nested;
  }
  return undefined;
}

const NOT_AN_OBJECT = 'request body must be a JSON object';

/**
 * Most levels of arrays and objects in the value of one top-level field, the value itself
 * included (`jwks` → `keys` → a key → its `x5c` array is 4). Deeper input is refused before any
 * recursive processing could exhaust the stack.
 */
export const MAX_FIELD_NESTING = 16;

/** Names of the properties a DTO class declares rules for, inherited ones included. */
function declaredProperties(metatype: new (...args: never[]) => unknown): Set<string> {
  return new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(metatype, '', true, false)
      .map((metadata) => metadata.propertyName),
  );
}

/** A plain object of any realm (what a JSON parser yields), not an array or a class instance. */
function isJsonObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * Nest's `ValidationPipe` configured for the registry API (SPEC S3): DTO classes are instantiated
 * (`transform`), unknown properties are dropped without error (`whitelist`; RFC 7591 §2 "the
 * authorization server MUST ignore any client metadata ... that it does not understand"), and the
 * first failure becomes an `OAuthError` whose `error_description` is `"<field path>: <problem>"`
 * (RFC 7591 §3.2.2). Submitted values are never echoed (`validationError.value: false`, and the
 * field rules' messages do not quote them). A body that is not a JSON object — an array, a
 * string, `null` — is refused with `request body must be a JSON object`.
 *
 * Before Nest's own processing, a body or query object is cut down to the properties the DTO
 * declares, and a declared property nested more than {@link MAX_FIELD_NESTING} levels is refused
 * (`<field>: is nested too deeply`): unknown or hostile deep input never reaches the recursive
 * copy and validation steps.
 *
 * @example
 * ```ts
 * @Post()
 * register(@Body(new OAuthValidationPipe()) body: ClientMetadataDto) { … }
 *
 * @Put(':id')
 * update(@Body(new OAuthValidationPipe({ errorCodeFor: adminErrorCodeFor })) body: AdminUpdateClientDto) { … }
 * ```
 */
@Injectable()
export class OAuthValidationPipe extends ValidationPipe {
  readonly #errorCodeFor: ValidationErrorCodeFor;
  readonly #requireBody: boolean;

  constructor(@Optional() options: OAuthValidationPipeOptions = {}) {
    const errorCodeFor = options.errorCodeFor ?? registrationErrorCodeFor;
    super({
      whitelist: true,
      forbidNonWhitelisted: false,
      transform: true,
      forbidUnknownValues: true,
      stopAtFirstError: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const problem = firstValidationProblem(errors);
        return problem && problem.path !== ''
          ? new OAuthError(errorCodeFor(problem.path), `${problem.path}: ${problem.message}`)
          : new OAuthError(errorCodeFor(''), NOT_AN_OBJECT);
      },
    });
    this.#errorCodeFor = errorCodeFor;
    this.#requireBody = options.requireBody ?? true;
  }

  /** Validates and converts `value` into an instance of the parameter's DTO class. */
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype;
    if (!metatype || !this.toValidate(metadata)) return super.transform(value, metadata);
    if (metadata.type === 'body') {
      const missing = value === undefined && !this.#requireBody;
      if (!missing && !isJsonObject(value)) {
        throw new OAuthError(this.#errorCodeFor(''), NOT_AN_OBJECT);
      }
    } else if (metadata.type === 'query' && value !== undefined && !isJsonObject(value)) {
      // Refused as class-validator would refuse it, but before its recursive copy, which a
      // deeply nested value (from a custom query parser) would drive into a stack overflow.
      throw new OAuthError(this.#errorCodeFor(''), NOT_AN_OBJECT);
    }
    return super.transform(this.#declaredOnly(value, metatype), metadata);
  }

  /** A shallow copy of `value` with the DTO's declared properties only, depth-checked. */
  #declaredOnly(value: unknown, metatype: new (...args: never[]) => unknown): unknown {
    if (!isJsonObject(value)) return value;
    const source = value as Record<string, unknown>;
    const picked: Record<string, unknown> = {};
    for (const name of declaredProperties(metatype)) {
      if (!Object.hasOwn(source, name)) continue;
      if (nestsDeeperThan(source[name], MAX_FIELD_NESTING)) {
        throw new OAuthError(this.#errorCodeFor(name), `${name}: is nested too deeply`);
      }
      picked[name] = source[name];
    }
    return picked;
  }
}

/**
 * A pipe for registration endpoints (RFC 7591 §3.2.2 error codes) or, with
 * {@link adminErrorCodeFor}, for the admin API.
 *
 * @example
 * ```ts
 * @UsePipes(oauthValidationPipe(adminErrorCodeFor, { requireBody: false }))
 * ```
 */
export function oauthValidationPipe(
  errorCodeFor: ValidationErrorCodeFor = registrationErrorCodeFor,
  options: Omit<OAuthValidationPipeOptions, 'errorCodeFor'> = {},
): OAuthValidationPipe {
  return new OAuthValidationPipe({ ...options, errorCodeFor });
}
