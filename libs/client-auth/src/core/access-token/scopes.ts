import { AccessTokenError } from './access-token-error.js';

/** RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The scopes of a `scope` claim (RFC 9068 §2.2.3, RFC 8693 §4.2) or introspection member
 * (RFC 7662 §2.2): a space-separated string of scope tokens, duplicates removed, order kept.
 * Absent means no scopes. Returns undefined when the value is not such a string.
 *
 * @example
 * ```ts
 * parseScope('reports:read  reports:write'); // ['reports:read', 'reports:write']
 * ```
 */
export function parseScope(value: unknown): readonly string[] | undefined {
  if (value === undefined) return Object.freeze([]);
  if (typeof value !== 'string') return undefined;
  const tokens = value.split(' ').filter((token) => token !== '');
  if (!tokens.every((token) => SCOPE_TOKEN.test(token))) return undefined;
  return Object.freeze([...new Set(tokens)]);
}

/** The scopes of `required` that `granted` lacks (scope values are case-sensitive, RFC 6749 §3.3). */
export function missingScopes(
  granted: readonly string[],
  required: readonly string[],
): readonly string[] {
  const have = new Set(granted);
  return required.filter((scope) => !have.has(scope));
}

/**
 * Checks that a verified token carries every scope in `required` (SPEC S8: all are required).
 * Throws {@link AccessTokenError} `scope_insufficient` (`insufficient_scope`, 403) whose
 * `requiredScopes` lists every required scope, for the challenge's `scope` (RFC 6750 §3).
 *
 * @example
 * ```ts
 * requireScopes(verified, ['reports:read']);
 * ```
 */
export function requireScopes(
  token: { readonly scopes: readonly string[] },
  required: readonly string[],
): void {
  if (required.length === 0) return;
  const unique = [...new Set(required)];
  const missing = missingScopes(token.scopes, unique);
  if (missing.length > 0) {
    throw new AccessTokenError({
      reason: 'scope_insufficient',
      detail: `missing scope ${missing.join(' ').slice(0, 200)}`,
      claim: 'scope',
      requiredScopes: unique,
    });
  }
}
