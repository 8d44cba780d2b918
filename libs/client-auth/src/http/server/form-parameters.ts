import { OAuthError } from '../../core/errors.js';

/** A form parameter that must appear at most once, as a string (RFC 6749 §3.1, §3.2). */
export function singleParameter(
  body: Record<string, unknown> | undefined,
  name: string,
): string | undefined {
  const value = body?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new OAuthError('invalid_request', `${name} must be sent exactly once`);
  }
  return value;
}

/** A parameter that may repeat (RFC 8707 `resource`): its values, at most `max`. */
export function repeatedParameter(
  body: Record<string, unknown> | undefined,
  name: string,
  max = 10,
): string[] {
  const value = body?.[name];
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  if (values.length > max || values.some((entry) => typeof entry !== 'string')) {
    throw new OAuthError('invalid_request', `${name} must be at most ${max} strings`);
  }
  return values as string[];
}

/** Shortens a caller-supplied value before it goes into a description. */
export function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
