import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsOptional, registerDecorator, type ValidationArguments } from 'class-validator';
import type { FieldCheck } from './field-rules.js';

/**
 * Attaches a {@link FieldCheck} to a DTO property as a class-validator rule. The rule's message
 * is the check's problem, so one property reports one precise problem. Without
 * {@link OptionalField} the property is required: absent, it fails with `is required`.
 *
 * @param check the rule.
 * @param name the constraint name in class-validator's `ValidationError` (default: the
 *   function's name).
 * @example
 * ```ts
 * class Dto {
 *   @FieldRule(httpsUrl)
 *   client_uri!: string;
 * }
 * ```
 */
export function FieldRule(check: FieldCheck, name?: string): PropertyDecorator {
  const problem = (value: unknown, args?: ValidationArguments): string | undefined =>
    value === undefined
      ? 'is required'
      : check(value, (args?.object ?? {}) as Record<string, unknown>);
  return (target, propertyKey) => {
    registerDecorator({
      name: name ?? (check.name || 'fieldRule'),
      target: target.constructor,
      propertyName: propertyKey as string,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) =>
          problem(value, args) === undefined,
        defaultMessage: (args?: ValidationArguments) => problem(args?.value, args) ?? 'is invalid',
      },
    });
  };
}

/**
 * Marks a property optional: absent and `null` are both "not given" (RFC 7592 §2.2 treats an
 * omitted field and an empty one alike). `null` becomes `undefined`, so a DTO never carries
 * `null`; a property with a default keeps it.
 *
 * @param defaultValue the value an explicit `null` stands for (give the same as the property's
 *   initializer, which covers an absent property).
 */
export function OptionalField(defaultValue?: unknown): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (value === null ? defaultValue : value)),
    IsOptional(),
  );
}

/**
 * Converts a query-string integer (`"20"`) to a number. Anything that is not plain decimal digits
 * (`"1e3"`, `"0x10"`, `" 5"`, `""`, a repeated parameter) is left as it is, so the integer rule
 * refuses it instead of guessing.
 */
export function QueryInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value,
  );
}

/**
 * RFC 3339 §5.6 `date-time` with a mandatory offset (`Z`, `+02:00`); `T`/`Z` in either case and
 * fractional seconds allowed. Leap seconds (`:60`) are refused: JavaScript dates cannot hold them.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time (RFC 3339 §5.6, offset required) into a `Date`, checking that
 * the calendar date exists; returns undefined for anything else.
 *
 * @example
 * ```ts
 * parseRfc3339('2030-01-01T00:00:00Z'); // Date
 * parseRfc3339('2030-02-30T00:00:00Z'); // undefined
 * ```
 */
export function parseRfc3339(text: string): Date | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = match[10] === undefined ? 0 : Number(match[10]);
  const offsetMinutes = match[11] === undefined ? 0 : Number(match[11]);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return undefined;
  }
  const date = new Date(text.toUpperCase());
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Converts an RFC 3339 date-time string to a `Date` before validation; anything else is left as
 * it is for the `isDateTime` rule to refuse.
 */
export function DateTimeField(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (parseRfc3339(value) ?? value) : value,
  );
}
