import { OAuthError } from '../errors.js';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/**
 * The scope to grant (RFC 6749 §3.3): the requested scope must be within what the client
 * registered; no request means the registered scope. Refusals are `invalid_scope`.
 */
export function grantedScope(
  requested: string | undefined,
  registered: string | undefined,
): string | undefined {
  const allowed = new Set((registered ?? '').split(' ').filter(Boolean));
  if (requested === undefined) return allowed.size ? [...allowed].join(' ') : undefined;
  if (!SCOPE.test(requested)) throw new OAuthError('invalid_scope', 'scope is malformed');
  const tokens = [...new Set(requested.split(' '))];
  const refused = tokens.filter((token) => !allowed.has(token));
  if (refused.length) {
    throw new OAuthError(
      'invalid_scope',
      `scope not allowed for this client: ${truncate(refused.join(' '))}`,
    );
  }
  return tokens.join(' ');
}

/**
 * RFC 8707 §2: `resource` values are absolute URIs without a fragment, and (here) one of the
 * configured resources; they become the token's audience. Refusals are `invalid_target`.
 */
export function grantedResources(
  requested: readonly string[],
  allowed: readonly string[] | undefined,
): string[] {
  const unique = [...new Set(requested)];
  for (const resource of unique) {
    let url: URL;
    try {
      url = new URL(resource);
    } catch {
      throw new OAuthError('invalid_target', 'resource must be an absolute URI (RFC 8707 §2)');
    }
    if (url.hash !== '' || resource.includes('#')) {
      throw new OAuthError('invalid_target', 'resource must not contain a fragment (RFC 8707 §2)');
    }
    if (!allowed?.includes(resource)) {
      throw new OAuthError('invalid_target', `resource is not served here: ${truncate(resource)}`);
    }
  }
  return unique;
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
