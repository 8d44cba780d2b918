import { ClientAuthError, type ClientAuthReason } from '../errors.js';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE } from '../options.js';

/** The credentials a request presented, one method only (SPEC S2.1). */
export type PresentedCredentials =
  /** RFC 6749 §2.3.1 `Authorization: Basic` (`client_secret_basic`). */
  | { readonly kind: 'basic'; readonly clientId: string; readonly secret: string }
  /** RFC 6749 §2.3.1 `client_id` + `client_secret` in the body (`client_secret_post`). */
  | { readonly kind: 'post'; readonly clientId: string; readonly secret: string }
  /** RFC 7523 §2.2 `client_assertion` (`private_key_jwt` / `client_secret_jwt`). */
  | { readonly kind: 'assertion'; readonly assertion: string; readonly clientId?: string }
  /** Only `client_id`: a public client (RFC 6749 §2.1, method `none`). */
  | { readonly kind: 'none'; readonly clientId: string };

/** What {@link extractClientCredentials} reads from a request. */
export interface CredentialSource {
  /** The `Authorization` header (an array when the header was sent more than once). */
  readonly authorization?: string | string[];
  /** The parsed `application/x-www-form-urlencoded` body. */
  readonly body?: unknown;
}

const BODY_PARAMETERS = [
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
] as const;

type BodyParameter = (typeof BODY_PARAMETERS)[number];

function invalidRequest(reason: ClientAuthReason, detail: string, claim?: string): ClientAuthError {
  return new ClientAuthError({ reason, error: 'invalid_request', detail, claim });
}

/**
 * Reads one parameter. RFC 6749 §3.1: parameters MUST NOT be included more than once, and a
 * parameter sent without a value is treated as omitted.
 */
function readParameter(body: Record<string, unknown>, name: BodyParameter): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    throw invalidRequest('duplicate_parameter', `parameter ${name} was sent more than once`, name);
  }
  if (typeof value !== 'string') {
    // e.g. `client_id[x]=1` parsed by a bracket-syntax body parser into an object.
    throw invalidRequest('parameter_not_string', `parameter ${name} must be a string`, name);
  }
  return value === '' ? undefined : value;
}

/** RFC 6749 Appendix B: `application/x-www-form-urlencoded` decoding (`+` is a space). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses `Authorization: Basic` per RFC 6749 §2.3.1: base64 (RFC 7617) of
 * `urlencode(client_id) ":" urlencode(client_secret)`; both parts are form-urldecoded.
 * Returns undefined when the header uses another scheme (not client credentials).
 */
function parseBasic(header: string): { clientId: string; secret: string } | undefined {
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/.exec(header.trim());
  if (!match || match[1]!.toLowerCase() !== 'basic') {
    // Auth schemes are case-insensitive (RFC 9110 §11.1); other schemes are no client credentials.
    if (match) return undefined;
    throw invalidRequest('basic_malformed', 'the Authorization header is malformed');
  }
  const token = (match[2] ?? '').trim();
  if (!BASE64.test(token) || token.length % 4 !== 0) {
    throw invalidRequest('basic_malformed', 'the Basic credentials are not valid base64');
  }
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    throw invalidRequest('basic_malformed', 'the Basic credentials contain no colon');
  }
  let clientId: string;
  let secret: string;
  try {
    clientId = formDecode(decoded.slice(0, colon));
    secret = formDecode(decoded.slice(colon + 1));
  } catch {
    throw invalidRequest('basic_malformed', 'the Basic credentials are not form-urlencoded');
  }
  if (clientId === '' || secret === '') {
    throw invalidRequest('basic_malformed', 'the Basic credentials lack a client_id or a secret');
  }
  return { clientId, secret };
}

/**
 * Extracts the client credentials of a token-endpoint-style request and enforces the request
 * shape of SPEC S2.1:
 * - a parameter or the `Authorization` header sent twice → `invalid_request` `duplicate_parameter`
 *   (RFC 6749 §3.1); a non-string parameter → `invalid_request` `parameter_not_string`;
 * - credentials in more than one place (Basic header, `client_secret`, `client_assertion`) →
 *   `invalid_request` `multiple_methods` (RFC 6749 §2.3: one authentication method per request);
 * - `client_assertion_type` other than the RFC 7523 §2.2 URN → `assertion_type_unsupported`;
 *   one of `client_assertion` / `client_assertion_type` without the other → `invalid_request`;
 * - a malformed Basic header → `invalid_request` `basic_malformed`; a Basic `client_id` that
 *   differs from a body `client_id`, or `client_secret` without `client_id` → `invalid_request`;
 * - no credentials and no `client_id` → `invalid_client` `credentials_missing` (generic).
 *
 * An `Authorization` header with a scheme other than Basic is ignored here (it carries no client
 * credentials).
 *
 * @example
 * ```ts
 * const credentials = extractClientCredentials({ authorization: req.headers.authorization, body: req.body });
 * if (credentials.kind === 'assertion') { … }
 * ```
 */
export function extractClientCredentials(input: CredentialSource): PresentedCredentials {
  const body: Record<string, unknown> =
    typeof input.body === 'object' && input.body !== null && !Array.isArray(input.body)
      ? (input.body as Record<string, unknown>)
      : {};
  const [clientId, secret, assertion, assertionType] = BODY_PARAMETERS.map((name) =>
    readParameter(body, name),
  );

  if (Array.isArray(input.authorization)) {
    if (input.authorization.length > 1) {
      throw invalidRequest(
        'duplicate_parameter',
        'the Authorization header was sent more than once',
        'authorization',
      );
    }
  }
  const header = Array.isArray(input.authorization) ? input.authorization[0] : input.authorization;
  const basic = header === undefined || header === '' ? undefined : parseBasic(header);

  // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
  const places = [
    basic && 'Authorization: Basic',
    secret && 'client_secret',
    assertion && 'client_assertion',
  ];
  const used = places.filter((place): place is string => typeof place === 'string');
  if (used.length > 1) {
    throw invalidRequest(
      'multiple_methods',
      `credentials sent in more than one way: ${used.join(', ')}`,
    );
  }

  // RFC 7521 §4.2: client_assertion_type and client_assertion come as a pair.
  if (assertionType !== undefined && assertionType !== JWT_BEARER_CLIENT_ASSERTION_TYPE) {
    throw invalidRequest(
      'assertion_type_unsupported',
      `client_assertion_type must be ${JWT_BEARER_CLIENT_ASSERTION_TYPE}`,
      'client_assertion_type',
    );
  }
  if (assertionType !== undefined && assertion === undefined) {
    throw invalidRequest(
      'assertion_type_without_assertion',
      'client_assertion_type was sent without client_assertion',
      'client_assertion',
    );
  }
  if (assertion !== undefined && assertionType === undefined) {
    throw invalidRequest(
      'assertion_without_type',
      'client_assertion was sent without client_assertion_type',
      'client_assertion_type',
    );
  }

  if (basic) {
    // RFC 6749 §2.3.1 allows client_id in the body too; it must then name the same client.
    if (clientId !== undefined && clientId !== basic.clientId) {
      throw invalidRequest(
        'client_id_mismatch',
        'client_id in the body differs from the client in the Authorization header',
        'client_id',
      );
    }
    return { kind: 'basic', clientId: basic.clientId, secret: basic.secret };
  }
  if (secret !== undefined) {
    if (clientId === undefined) {
      throw invalidRequest(
        'client_id_missing',
        'client_secret was sent without client_id',
        'client_id',
      );
    }
    return { kind: 'post', clientId, secret };
  }
  if (assertion !== undefined) {
    return clientId === undefined
      ? { kind: 'assertion', assertion }
      : { kind: 'assertion', assertion, clientId };
  }
  if (clientId !== undefined) return { kind: 'none', clientId };
  throw new ClientAuthError({
    reason: 'credentials_missing',
    detail: 'no client credentials were sent',
  });
}
