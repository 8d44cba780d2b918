import { isEmail } from 'class-validator';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../../core/assertion/algorithms.js';
import { InvalidJwksError } from '../../core/jwks/jwks-errors.js';
import { parseJwks, parsePublicJwk } from '../../core/jwks/jwks-validation.js';

/**
 * Field rules of the registry HTTP API (SPEC S3; RFC 7591 §2, RFC 7592 §2.2): plain functions
 * that return `undefined` for an acceptable value and otherwise a problem in words
 * (`must be an https URL`). The DTOs attach them with `@FieldRule()`, and the
 * `OAuthValidationPipe` turns the first problem into `"<field path>: <problem>"`.
 *
 * A problem may start with a sub-path that continues the field's path, followed by `": "`:
 * `"[2]: must not include a fragment"` on `redirect_uris` reads `redirect_uris[2]: …`,
 * `".keys[1]: …"` on `jwks` reads `jwks.keys[1]: …`.
 *
 * Problems never repeat the submitted value (it may be a secret or a key), except a short token
 * of visible ASCII where naming it helps, such as an unsupported grant type.
 */

/** A field rule: `undefined` when `value` is acceptable, else the problem. */
export type FieldCheck = (
  value: unknown,
  object: Readonly<Record<string, unknown>>,
) => string | undefined;

/**
 * Length and count caps of the client metadata (SPEC S3 "length caps on every string and
 * array"). Strings count UTF-16 code units, as JavaScript does.
 */
export const CLIENT_METADATA_LIMITS = Object.freeze({
  /** `redirect_uris` entries. */
  redirectUris: 20,
  /** Any URI or URL: `redirect_uris[]`, `jwks_uri`, `client_uri`, `logo_uri`, `tos_uri`, `policy_uri`. */
  uriLength: 2048,
  /** `client_name`, `software_id`, `software_version`, `client_id`, free-text descriptions. */
  textLength: 255,
  /** `scope`. */
  scopeLength: 2048,
  /** `contacts` entries. */
  contacts: 10,
  /** One `contacts` entry (RFC 5321 §4.5.3.1.3 path limit). */
  emailLength: 254,
  /** Keys in an inline `jwks` (the service may cap lower). */
  jwksKeys: 100,
  /** `software_statement` (compact JWS). */
  softwareStatementLength: 8192,
  /** Array fields whose values come from a closed set (`grant_types`, `response_types`). */
  enumeratedValues: 10,
});

/** Grant types this server supports: RFC 6749 §4.4 and RFC 7523 §2.1. */
export const SUPPORTED_GRANT_TYPES: readonly string[] = Object.freeze([
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
]);

/** Algorithms a client may register as `token_endpoint_auth_signing_alg` (SPEC S2.4). */
export const REGISTRABLE_SIGNING_ALGORITHMS: readonly string[] = Object.freeze([
  ...PRIVATE_KEY_JWT_ALGORITHMS,
  ...CLIENT_SECRET_JWT_ALGORITHMS,
]);

/** Prefixes a problem with a sub-path segment (`[2]`, `.keys`), keeping any deeper segment. */
export function atPath(segment: string, problem: string): string {
  return /^(?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)/.test(problem)
    ? `${segment}${problem}`
    : `${segment}: ${problem}`;
}

/** `"value"` when a submitted value is a short visible-ASCII token safe to name, else undefined. */
export function quoteToken(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(value)
    ? `"${value}"`
    : undefined;
}

/** A JSON object: a plain object of any realm, not an array or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Control characters (C0, DEL, C1) and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Visible ASCII only: what an absolute URI consists of (RFC 3986 §2). */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
/** RFC 6749 Appendix A.1: client-id = *VSCHAR, VSCHAR = %x20-7E. */
const VSCHAR = /^[\x20-\x7e]+$/;
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;

// ---------------------------------------------------------------------------------------------
// Generic rules
// ---------------------------------------------------------------------------------------------

/**
 * A string of `min`..`max` characters without control characters; with `pattern`, also matching
 * it (`patternProblem` names the rule).
 */
export function boundedString(options: {
  readonly max: number;
  readonly min?: number;
  readonly pattern?: RegExp;
  readonly patternProblem?: string;
}): FieldCheck {
  const min = options.min ?? 1;
  return (value) => {
    if (typeof value !== 'string') return 'must be a string';
    if (value.length < min || value.length > options.max) {
      return min === 1 && value.length === 0
        ? 'must not be empty'
        : `must be ${min} to ${options.max} characters long`;
    }
    if (CONTROL.test(value)) return 'must not contain control characters';
    if (options.pattern && !options.pattern.test(value)) {
      return options.patternProblem ?? 'has an invalid format';
    }
    return undefined;
  };
}

/** One of a closed set of strings. */
export function oneOf(values: readonly string[]): FieldCheck {
  return (value) =>
    typeof value === 'string' && values.includes(value)
      ? undefined
      : `must be one of ${values.join(', ')}`;
}

/** An integer (a JSON number, or a query string already converted) in `min`..`max`. */
export function integerInRange(min: number, max: number): FieldCheck {
  return (value) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
      ? undefined
      : `must be an integer between ${min} and ${max}`;
}

/** A JSON boolean (`"true"` as a string is refused). */
export const isBooleanValue: FieldCheck = (value) =>
  typeof value === 'boolean' ? undefined : 'must be a boolean';

/**
 * An RFC 3339 §5.6 date-time with a time zone, already converted to a `Date` by
 * `@DateTimeField()`; anything left unconverted was not one.
 */
export const isDateTime: FieldCheck = (value) =>
  value instanceof Date && !Number.isNaN(value.getTime())
    ? undefined
    : 'must be an RFC 3339 date-time with a time zone, such as 2030-01-01T00:00:00Z';

/** An array of `min`..`max` entries, each checked by `item` (problems name the index). */
export function arrayOf(
  item: FieldCheck,
  options: { readonly max: number; readonly min?: number; readonly distinct?: boolean },
): FieldCheck {
  const min = options.min ?? 0;
  return (value, object) => {
    if (!Array.isArray(value)) return 'must be an array';
    if (value.length < min) return min === 1 ? 'must not be empty' : `must hold at least ${min}`;
    if (value.length > options.max) return `must hold at most ${options.max} entries`;
    for (const [index, entry] of value.entries()) {
      const problem = item(entry, object);
      if (problem !== undefined) return atPath(`[${index}]`, problem);
      if (options.distinct && value.indexOf(entry) !== index) {
        return atPath(`[${index}]`, 'repeats an earlier entry');
      }
    }
    return undefined;
  };
}

/** A date-time that must be later than the date-time of another field, when both are present. */
export function laterThan(field: string): FieldCheck {
  return (value, object) => {
    const problem = isDateTime(value, object);
    if (problem !== undefined) return problem;
    const other = object[field];
    return other instanceof Date && (value as Date).getTime() <= other.getTime()
      ? `must be later than ${field}`
      : undefined;
  };
}

// ---------------------------------------------------------------------------------------------
// URIs
// ---------------------------------------------------------------------------------------------

function isLoopbackHost(hostname: string): boolean {
  // RFC 8252 §7.3 loopback IP literals; §8.3 `localhost` (NOT RECOMMENDED there, but it works).
  // WHATWG URL parsing has already normalised IPv4 forms such as 127.1 to dotted decimal.
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** Common checks of an absolute URI: a string of visible ASCII, at most `uriLength` long. */
function uriText(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > CLIENT_METADATA_LIMITS.uriLength) {
    return `must be at most ${CLIENT_METADATA_LIMITS.uriLength} characters long`;
  }
  if (!VISIBLE_ASCII.test(value)) {
    return 'must be an absolute URI without spaces or non-ASCII characters (RFC 3986 §4.3)';
  }
  return undefined;
}

/**
 * An absolute `https:` URL with a host and without user information: `client_uri`, `logo_uri`,
 * `tos_uri`, `policy_uri` (RFC 7591 §2 — shown to users, so never plain http).
 */
export const httpsUrl: FieldCheck = (value) => {
  const text = uriText(value);
  if (text !== undefined) return text;
  const url = URL.parse(value as string);
  if (!url || url.protocol !== 'https:' || url.hostname === '') {
    return 'must be an absolute https URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not include a user name or password';
  return undefined;
};

/**
 * One redirection URI (RFC 7591 §2 `redirect_uris`): an absolute URI without a fragment
 * (RFC 6749 §3.1.2), using `https`, `http` on a loopback host only (RFC 8252 §7.3, §8.3), or a
 * private-use scheme in reverse domain name form such as `com.example.app:/cb` (RFC 8252 §7.1).
 */
export const redirectUri: FieldCheck = (value) => {
  const text = uriText(value);
  if (text !== undefined) return text;
  const uri = value as string;
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  const url = URL.parse(uri);
  if (scheme === undefined || !url) return 'must be an absolute URI (RFC 3986 §4.3)';
  if (uri.includes('#')) return 'must not include a fragment (RFC 6749 §3.1.2)';
  if (scheme === 'https' || scheme === 'http') {
    if (url.hostname === '') return 'must be an absolute URI with a host';
    if (url.username !== '' || url.password !== '') {
      return 'must not include a user name or password';
    }
    if (scheme === 'http' && !isLoopbackHost(url.hostname)) {
      return 'may use http only with a loopback host (RFC 8252 §7.3); use https';
    }
    return undefined;
  }
  if (!scheme.includes('.')) {
    return (
      'must use https, http with a loopback host, or a private-use scheme in reverse domain ' +
      'name form such as com.example.app (RFC 8252 §7)'
    );
  }
  return undefined;
};

/**
 * `jwks_uri` syntax (RFC 7591 §2; SPEC S3): an absolute URL of at most 2048 characters with a
 * host, no user information and no fragment, and not together with `jwks`. The scheme rule
 * (`https:`, or `http:` for an allow-listed host) and the address checks depend on server
 * configuration and are applied by the registry service when it admits the URL.
 */
export const jwksUri: FieldCheck = (value, object) => {
  const text = uriText(value);
  if (text !== undefined) return text;
  const uri = value as string;
  const url = URL.parse(uri);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    return 'must be an absolute https URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not include a user name or password';
  if (uri.includes('#')) return 'must not include a fragment';
  // RFC 7591 §2: "The jwks_uri and jwks parameters MUST NOT both be present".
  if (object.jwks !== undefined && object.jwks !== null) {
    return 'must not be present together with jwks (RFC 7591 §2)';
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// RFC 7591 §2 metadata
// ---------------------------------------------------------------------------------------------

/** `redirect_uris`: at most 20 distinct redirection URIs ({@link redirectUri}). */
export const redirectUris: FieldCheck = arrayOf(redirectUri, {
  max: CLIENT_METADATA_LIMITS.redirectUris,
  distinct: true,
});

/**
 * `token_endpoint_auth_signing_alg` (RFC 7591 §2; SPEC S2.4): one of the algorithms accepted for
 * `private_key_jwt` or `client_secret_jwt`; never `none` (RFC 7591 §2, RFC 7523 §3 item 9).
 * Whether it fits the chosen method is checked by the registry service.
 */
export const signingAlgorithm: FieldCheck = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  if (value.toLowerCase() === 'none') {
    return '"none" is not accepted: assertions must be signed or MACed (RFC 7523 §3)';
  }
  return REGISTRABLE_SIGNING_ALGORITHMS.includes(value)
    ? undefined
    : `must be one of ${REGISTRABLE_SIGNING_ALGORITHMS.join(', ')}`;
};

const grantType: FieldCheck = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  if (SUPPORTED_GRANT_TYPES.includes(value)) return undefined;
  const name = quoteToken(value);
  return `${name ? `${name} is` : 'is'} not a supported grant type; supported: ${SUPPORTED_GRANT_TYPES.join(', ')}`;
};

/**
 * `grant_types` (RFC 7591 §2): distinct values among {@link SUPPORTED_GRANT_TYPES}; the server
 * has no authorization endpoint, so `authorization_code`, `implicit` and `refresh_token` are
 * refused.
 */
export const grantTypes: FieldCheck = arrayOf(grantType, {
  min: 1,
  max: CLIENT_METADATA_LIMITS.enumeratedValues,
  distinct: true,
});

/**
 * `response_types` (RFC 7591 §2): only the empty array, since the server has no authorization
 * endpoint (RFC 6749 §3.1.1 response types apply to it alone).
 */
export const responseTypes: FieldCheck = (value) => {
  if (!Array.isArray(value)) return 'must be an array';
  return value.length === 0
    ? undefined
    : 'must be empty: this server has no authorization endpoint';
};

/** `scope` (RFC 7591 §2): space-separated scope tokens (RFC 6749 §3.3), at most 2048 characters. */
export const scope: FieldCheck = boundedString({
  max: CLIENT_METADATA_LIMITS.scopeLength,
  pattern: SCOPE,
  patternProblem: 'must be scope tokens separated by single spaces (RFC 6749 §3.3)',
});

const contact: FieldCheck = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > CLIENT_METADATA_LIMITS.emailLength) {
    return `must be at most ${CLIENT_METADATA_LIMITS.emailLength} characters long`;
  }
  return isEmail(value) ? undefined : 'must be an e-mail address';
};

/** `contacts` (RFC 7591 §2): at most 10 e-mail addresses. */
export const contacts: FieldCheck = arrayOf(contact, { max: CLIENT_METADATA_LIMITS.contacts });

/**
 * Registered names (RFC 7518 §6.1, §3.1; RFC 8037 §2, §3.1; RFC 9864 §2.2; RFC 7517 §4.2) that
 * the core may quote in its problems. A key whose `kty`, `crv`, `alg` or `use` is anything else
 * is refused here without quoting the value, so a description never repeats free-form input.
 */
const JWK_NAMES: Readonly<Record<'kty' | 'crv' | 'alg' | 'use', readonly string[]>> = {
  kty: ['RSA', 'EC', 'OKP', 'oct'],
  crv: ['P-256', 'P-384', 'P-521', 'secp256k1', 'Ed25519', 'Ed448', 'X25519', 'X448'],
  alg: [
    ...['RS', 'PS', 'ES', 'HS'].flatMap((family) => ['256', '384', '512'].map((n) => family + n)),
    'ES256K',
    'EdDSA',
    'Ed25519',
    'Ed448',
    'none',
  ],
  use: ['sig', 'enc'],
};
const JWK_NAME_PROBLEMS: Readonly<Record<keyof typeof JWK_NAMES, string>> = {
  kty: '"kty" is not a supported key type (RSA, EC, OKP)',
  crv: '"crv" is not a supported curve (P-256, P-384, P-521, Ed25519)',
  alg: '"alg" is not a JWS signature algorithm (RFC 7518 §3.1)',
  use: '"use" must be "sig" (RFC 7517 §4.2)',
};

function jwkNamesProblem(key: Record<string, unknown>): string | undefined {
  for (const member of Object.keys(JWK_NAMES) as (keyof typeof JWK_NAMES)[]) {
    const value = key[member];
    if (typeof value === 'string' && !JWK_NAMES[member].includes(value)) {
      return JWK_NAME_PROBLEMS[member];
    }
  }
  return undefined;
}

/**
 * `jwks` (RFC 7591 §2, RFC 7517 §5; SPEC S3): a JWK Set of 1 to 100 public signature keys,
 * checked by the core `parseJwks` (no private members, consistent `kty`/`crv`/`alg`, RSA ≥ 2048
 * bits, unique `kid`s); problems name the key: `jwks.keys[2]: …`.
 */
export const jwks: FieldCheck = (value) => {
  if (!isPlainObject(value) || !Array.isArray(value.keys)) {
    return 'must be a JWK Set: an object with a "keys" array (RFC 7517 §5)';
  }
  const keys: unknown[] = value.keys;
  if (keys.length === 0) return atPath('.keys', 'must hold at least one key');
  if (keys.length > CLIENT_METADATA_LIMITS.jwksKeys) {
    return atPath('.keys', `must hold at most ${CLIENT_METADATA_LIMITS.jwksKeys} keys`);
  }
  for (const [index, key] of keys.entries()) {
    if (!isPlainObject(key)) return atPath(`.keys[${index}]`, 'must be a JSON object');
    const names = jwkNamesProblem(key);
    if (names !== undefined) return atPath(`.keys[${index}]`, names);
  }
  try {
    parseJwks(value, { maxKeys: CLIENT_METADATA_LIMITS.jwksKeys, minKeys: 1 });
  } catch (error) {
    if (!(error instanceof InvalidJwksError)) throw error;
    return error.keyIndex === undefined
      ? error.problem
      : atPath(`.keys[${error.keyIndex}]`, error.problem);
  }
  return undefined;
};

/**
 * One public JWK (admin key management; SPEC S3): the rules of a `jwks` member, checked by the
 * core `parsePublicJwk`.
 */
export const publicJwk: FieldCheck = (value) => {
  if (!isPlainObject(value)) return 'must be a JWK: a JSON object (RFC 7517 §4)';
  const names = jwkNamesProblem(value);
  if (names !== undefined) return names;
  try {
    parsePublicJwk(value);
  } catch (error) {
    if (!(error instanceof InvalidJwksError)) throw error;
    return error.problem;
  }
  return undefined;
};

function decodeJsonSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * `software_statement` (RFC 7591 §2.3): a JWT in JWS compact serialization (RFC 7515 §7.1) whose
 * header and payload are JSON objects and whose `alg` is not `none`. Its signature is not
 * checked here.
 */
export const softwareStatement: FieldCheck = (value) => {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > CLIENT_METADATA_LIMITS.softwareStatementLength) {
    return `must be at most ${CLIENT_METADATA_LIMITS.softwareStatementLength} characters long`;
  }
  const segments = value.split('.');
  const wellFormed =
    segments.length === 3 && segments.every((segment) => BASE64URL_SEGMENT.test(segment));
  const header = wellFormed ? decodeJsonSegment(segments[0]!) : undefined;
  const payload = wellFormed ? decodeJsonSegment(segments[1]!) : undefined;
  if (!isPlainObject(header) || !isPlainObject(payload) || typeof header.alg !== 'string') {
    return 'must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)';
  }
  if (header.alg.toLowerCase() === 'none') {
    return 'must be signed: "alg" "none" is not accepted (RFC 7591 §2.3)';
  }
  return undefined;
};

/** `client_id` chosen by an operator: 1 to 255 VSCHAR characters (RFC 6749 Appendix A.1). */
export const clientId: FieldCheck = boundedString({
  max: CLIENT_METADATA_LIMITS.textLength,
  pattern: VSCHAR,
  patternProblem: 'must be visible ASCII characters or spaces (RFC 6749 Appendix A.1)',
});

/** Free text of at most 255 characters (`client_name`, `software_id`, `software_version`, …). */
export const shortText: FieldCheck = boundedString({ max: CLIENT_METADATA_LIMITS.textLength });
