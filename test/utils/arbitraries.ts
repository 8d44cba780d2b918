/**
 * fast-check arbitraries for the property-based tests over hostile input (SPEC S10): strings,
 * JSON documents, form bodies, headers, content types, JWK Sets and mutations of valid client
 * assertions.
 *
 * Every property runs from one fixed seed so that a failure in CI replays locally: `FUZZ_SEED`
 * (an integer) when set, else {@link DEFAULT_FUZZ_SEED}. `FUZZ_RUNS` scales every property's
 * number of runs (`FUZZ_RUNS=20` for a long local session; default 1).
 */
import fc from 'fast-check';

/** The seed used when `FUZZ_SEED` is not set. */
export const DEFAULT_FUZZ_SEED = 0x5eed_0007;

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got ${raw}`);
  return value;
}

/** The seed every property of this run starts from. */
export const FUZZ_SEED: number = Math.trunc(integerFromEnv('FUZZ_SEED', DEFAULT_FUZZ_SEED));

/** Factor applied to every property's number of runs. */
export const FUZZ_RUN_SCALE: number = Math.max(0.01, integerFromEnv('FUZZ_RUNS', 1));

/**
 * fast-check parameters of one property: the run's seed and `numRuns` scaled by `FUZZ_RUNS`.
 *
 * @example
 * ```ts
 * await fc.assert(fc.asyncProperty(formBody(), async (body) => { … }), fuzzParameters(50));
 * ```
 */
export function fuzzParameters<T>(numRuns: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * FUZZ_RUN_SCALE)) };
}

/**
 * A Jest timeout for a property test: `baseMs` scaled like the number of runs, so that a long
 * session (`FUZZ_RUNS=20`) is not cut off while fast-check is still sending requests.
 */
export function fuzzTimeout(baseMs: number): number {
  return Math.round(baseMs * Math.max(1, FUZZ_RUN_SCALE));
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Strings that have broken parsers before: empty, control characters, encodings, keywords. */
export const SPECIAL_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t',
  '\u0000',
  '\r\n',
  '%',
  '%zz',
  '%E0%A4%A',
  '%00',
  '+',
  '&',
  '=',
  '.',
  '..',
  '../',
  '/',
  '\\',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\u202e',
  '\u0085',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  'NaN',
  '1e309',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  "' OR '1'='1",
  '"; DROP TABLE oauth_client; --',
  '<script>',
  '${x}',
  'é',
  '\u{1d54f}',
  'A\u030A',
];

/** A long string: a short unit repeated to `min`–`max` characters. */
export function longString(min = 256, max = 20_000): fc.Arbitrary<string> {
  return fc
    .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), fc.integer({ min, max }))
    .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
}

/**
 * Any string a hostile caller might send: special values, ASCII, any code point, graphemes,
 * Latin-1 control characters, and (rarely) long strings.
 */
export function hostileString(maxLength = 64): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...SPECIAL_STRINGS), weight: 3 },
    { arbitrary: fc.string({ maxLength }), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', maxLength }), weight: 2 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary-ascii', maxLength }), weight: 2 },
    { arbitrary: longString(), weight: 1 },
  );
}

/** One character a Node.js HTTP client accepts in a header value (tab, visible ASCII, Latin-1). */
const headerChar = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0xff }),
    fc.constant(0x09),
  )
  .map((code) => String.fromCharCode(code));

/** A header value Node.js will send (no CR, LF or NUL; at most Latin-1). */
export function headerValue(maxLength = 64): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: headerChar, maxLength }),
    fc.constantFrom('', ' ', '\t', '%', '..', 'null', '\u00e9', '\u00ff'),
    longString(256, 6000).map((text) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, 'x')),
  );
}

// ---------------------------------------------------------------------------------------------
// JSON

/** Members that have led to prototype pollution and confused lookups. */
export const PROTOTYPE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
];

/** Marks the values built by {@link nested}, so {@link jsonText} can write them without recursion. */
const NESTED = Symbol('nested');

/**
 * A JSON array or object nested `depth` levels deep, built without recursion. It prints as
 * `nested(depth, kind)` in fast-check reports (a recursive printer would overflow the stack).
 */
export function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let level = 1; level <= depth; level++) {
    value = kind === 'array' ? [value] : { a: value };
    // Every level is marked, so a copy of the outer level still serialises flat.
    Object.defineProperty(value, NESTED, { value: { depth: level, kind }, enumerable: false });
  }
  Object.defineProperty(value, fc.toStringMethod, {
    value: () => `nested(${depth}, '${kind}')`,
    enumerable: false,
  });
  return value;
}

/**
 * `JSON.stringify` for generated values: the deep values of {@link nested} (which would overflow
 * `JSON.stringify`'s stack) are written flat. Members whose value is `undefined` are left out.
 */
export function jsonText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const info = (value as { [NESTED]?: { depth: number; kind: 'array' | 'object' } })[NESTED];
  if (info) return nestedJsonText(info.depth, info.kind);
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : jsonText(item))).join(',')}]`;
  }
  const members = Object.entries(value).filter(([, member]) => member !== undefined);
  return `{${members.map(([key, member]) => `${JSON.stringify(key)}:${jsonText(member)}`).join(',')}}`;
}

/** The JSON text of {@link nested} without building the value (for bodies near a size cap). */
export function nestedJsonText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** An object whose own member is `key` (parsed from JSON, so `__proto__` stays an own member). */
function objectWithMember(key: string, value: unknown): Record<string, unknown> {
  return JSON.parse(`{${JSON.stringify(key)}:${jsonText(value)}}`) as Record<string, unknown>;
}

/**
 * A JSON value of the kind a hostile body holds: any JSON, objects with prototype-polluting
 * members, deep nesting (to 3000 levels), long strings and extreme numbers.
 */
export function hostileJson(maxDepth = 3): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    hostileString(),
    fc.constantFrom(0, -0, 1, -1, 1.5, 1e308, -1e308, 2 ** 53, -(2 ** 53), 5e-324, true, false),
    fc.constant(null),
  );
  return fc.oneof(
    { arbitrary: fc.jsonValue({ maxDepth }), weight: 4 },
    { arbitrary: scalar, weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 }))
        .map(([key, value]) => objectWithMember(key, value)),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.integer({ min: 17, max: 3000 }), fc.constantFrom('array', 'object'))
        .map(([depth, kind]) => nested(depth, kind as 'array' | 'object')),
      weight: 1,
    },
  );
}

/**
 * A JSON object whose members are taken from `names` (the fields an endpoint reads) and other
 * names, with hostile values; `valid` values are mixed in so that validation gets past the
 * first field now and then.
 */
export function hostileObject(
  names: readonly string[],
  valid: Readonly<Record<string, readonly unknown[]>> = {},
): fc.Arbitrary<Record<string, unknown>> {
  const member = fc.oneof(
    { arbitrary: fc.constantFrom(...names), weight: 6 },
    { arbitrary: fc.constantFrom(...PROTOTYPE_KEYS), weight: 1 },
    { arbitrary: hostileString(16), weight: 1 },
  );
  return fc
    .array(
      member.chain((name) => {
        const validValues = Object.hasOwn(valid, name) ? valid[name] : undefined;
        const value =
          validValues && validValues.length > 0
            ? fc.oneof(fc.constantFrom(...validValues), hostileJson())
            : hostileJson();
        return fc.tuple(fc.constant(name), value);
      }),
      { maxLength: 8 },
    )
    .map((entries) => {
      const object: Record<string, unknown> = {};
      for (const [name, value] of entries) {
        Object.defineProperty(object, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    });
}

// ---------------------------------------------------------------------------------------------
// Form bodies and headers

/** The RFC 7523 client assertion type. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Parameters the token, introspection and revocation endpoints read. */
export const OAUTH_FORM_PARAMETERS: readonly string[] = [
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'scope',
  'resource',
  'assertion',
  'token',
  'token_type_hint',
];

/** One `name=value` pair of a form body, both unencoded. */
export type FormPair = readonly [string, string];

/** A form parameter name: an OAuth parameter, its bracket forms, or anything. */
export function formName(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...OAUTH_FORM_PARAMETERS), weight: 6 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...OAUTH_FORM_PARAMETERS), fc.constantFrom('[]', '[0]', '[x]', '.x'))
        .map(([name, suffix]) => name + suffix),
      weight: 1,
    },
    { arbitrary: hostileString(16), weight: 1 },
  );
}

/** A form parameter value: a plausible OAuth value or anything. */
export function formValue(): fc.Arbitrary<string> {
  return fc.oneof(
    {
      arbitrary: fc.constantFrom(
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        JWT_BEARER_ASSERTION_TYPE,
        'access_token',
        'refresh_token',
        'read',
        'read write',
        'https://as.example.test',
      ),
      weight: 2,
    },
    { arbitrary: hostileString(), weight: 4 },
  );
}

/** `text` with every lone surrogate replaced by U+FFFD (what UTF-8 encoding sends anyway). */
export function wellFormed(text: string): string {
  return text.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
}

/** `application/x-www-form-urlencoded` (RFC 6749 Appendix B): `+` for space, UTF-8 percent escapes. */
export function formEncode(pairs: readonly FormPair[]): string {
  const encode = (text: string) => encodeURIComponent(wellFormed(text)).replace(/%20/g, '+');
  return pairs.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
}

/**
 * A form body as sent on the wire: well-encoded pairs (repeats allowed), pairs joined without
 * encoding (stray `%`, `&`, `=`), or any text.
 */
export function formBody(): fc.Arbitrary<string> {
  const pairs = fc.array(fc.tuple(formName(), formValue()), { maxLength: 8 });
  return fc.oneof(
    { arbitrary: pairs.map(formEncode), weight: 6 },
    {
      arbitrary: pairs.map((list) =>
        wellFormed(list.map(([name, value]) => `${name}=${value}`).join('&')),
      ),
      weight: 2,
    },
    { arbitrary: hostileString(200).map(wellFormed), weight: 1 },
    {
      // More parameters than the parser accepts.
      arbitrary: fc
        .integer({ min: 101, max: 300 })
        .map((count) => Array.from({ length: count }, (_, i) => `p${i}=${i}`).join('&')),
      weight: 1,
    },
  );
}

/** `Authorization: Basic` of RFC 6749 §2.3.1 (form-urlencoded id and secret, then base64). */
export function basicHeader(clientId: string, secret: string): string {
  const encode = (text: string) => encodeURIComponent(wellFormed(text)).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/**
 * An `Authorization` header value: Basic with random or malformed credentials, Bearer, other
 * schemes, bare schemes, and arbitrary text. `clientIds` adds Basic headers naming real clients
 * (with wrong secrets).
 */
export function authorizationHeader(clientIds: readonly string[] = []): fc.Arbitrary<string> {
  const idArb =
    clientIds.length > 0
      ? fc.oneof(fc.constantFrom(...clientIds), hostileString(32))
      : hostileString(32);
  return fc.oneof(
    fc.tuple(idArb, hostileString(48)).map(([id, secret]) => basicHeader(id, secret)),
    fc
      .uint8Array({ maxLength: 96 })
      .map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
    fc
      .tuple(fc.constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'bearer'), headerValue())
      .map(([scheme, rest]) => `${scheme} ${rest}`),
    fc.constantFrom(
      'Basic',
      'Basic ',
      'Basic Og==',
      'Basic =',
      'Basic ====',
      'Basic YTpi:',
      `Basic ${Buffer.from('a').toString('base64')}`,
      `Basic ${Buffer.from('%zz:%zz').toString('base64')}`,
      'Bearer',
      'Bearer  ',
      'Digest username="a"',
      'Negotiate abc',
      ', Basic abc',
    ),
    headerValue(),
  );
}

/** `Content-Type` values: the ones the server parses, their variants, and anything. */
export function contentType(): fc.Arbitrary<string> {
  return fc.oneof(
    {
      arbitrary: fc.constantFrom(
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=utf-8',
        'application/x-www-form-urlencoded; charset=utf-16',
        'application/x-www-form-urlencoded; charset=x-unknown',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'application/json',
        'application/json; charset=latin1',
        'application/jwk-set+json',
        'application/merge-patch+json',
        'text/plain',
        'text/html',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        'application/x-www-form-urlencoded, application/json',
        ';',
        '',
      ),
      weight: 4,
    },
    { arbitrary: headerValue(40), weight: 1 },
  );
}

// ---------------------------------------------------------------------------------------------
// Client assertions

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A value of the wrong type or shape for a JOSE header member or a JWT claim. */
export function jwtMemberValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: hostileString(), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        0,
        -1,
        1.5,
        1e308,
        -1e308,
        2 ** 53,
        true,
        false,
        null,
        [],
        {},
        [null],
        ['a', 1],
      ),
      weight: 2,
    },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 2 },
    { arbitrary: longString(1000, 12_000), weight: 1 },
  );
}

/** `alg` values to put in a mutated header. */
export const HEADER_ALGS: readonly unknown[] = [
  'none',
  'None',
  'NONE',
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'ES256K',
  'EdDSA',
  'Ed25519',
  'Ed448',
  'es256',
  'RSA-OAEP',
  'dir',
  '',
  null,
  ['ES256'],
];

/** A change of one JOSE header member (`undefined` value: the member is removed). */
export interface HeaderChange {
  readonly member: string;
  readonly value: unknown;
}

/** A change of one claim (`undefined` value: the claim is removed). */
export interface ClaimChange {
  readonly claim: string;
  readonly value: unknown;
}

/** How to damage a valid compact JWS; {@link applyAssertionMutation} applies it. */
export type AssertionMutation =
  /** Flip one bit of the decoded signature (`byte` is taken modulo its length). */
  | { readonly kind: 'flip-signature-bit'; readonly byte: number; readonly bit: number }
  /** Replace the character at `at` (modulo the length) with `by` (or the next one if equal). */
  | { readonly kind: 'replace-char'; readonly at: number; readonly by: string }
  /**
   * Replace the last character of a segment, where base64url keeps its padding bits: a change
   * there may leave the decoded bytes unchanged.
   */
  | { readonly kind: 'replace-segment-end'; readonly segment: 0 | 1 | 2; readonly by: string }
  /** Reorder the three segments (never the identity). */
  | { readonly kind: 'swap-segments'; readonly order: readonly [number, number, number] }
  /** Insert dots, whitespace or other text at `at`. */
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  /** Keep the first `keep` characters (modulo the length). */
  | { readonly kind: 'truncate'; readonly keep: number }
  /** Drop the signature (`header.payload.`), or the signature and its dot. */
  | { readonly kind: 'drop-signature'; readonly withDot: boolean }
  /** Change header members and re-encode the header; the signature stays. */
  | { readonly kind: 'header'; readonly changes: readonly HeaderChange[] }
  /** Change claims and re-encode the payload; the signature stays. */
  | { readonly kind: 'payload'; readonly changes: readonly ClaimChange[] }
  /** Replace the header or payload segment by the encoding of any JSON value or text. */
  | {
      readonly kind: 'replace-segment';
      readonly segment: 0 | 1;
      readonly value: unknown;
      readonly raw: boolean;
    }
  /** Take the header or payload from another, valid assertion for another client. */
  | { readonly kind: 'splice'; readonly segment: 0 | 1 | 2 };

/** Header members worth mutating, key-bearing ones included. */
const HEADER_MEMBERS = [
  'alg',
  'kid',
  'typ',
  'crit',
  'jwk',
  'jku',
  'x5u',
  'x5c',
  'x5t',
  'b64',
  'cty',
  'zip',
];

/** Claims worth mutating. */
const CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'];

function headerChange(): fc.Arbitrary<HeaderChange> {
  return fc.oneof(
    fc.record({ member: fc.constant('alg'), value: fc.constantFrom(...HEADER_ALGS) }),
    fc.record({
      member: fc.constantFrom(...HEADER_MEMBERS),
      value: fc.oneof(jwtMemberValue(), fc.constant(undefined)),
    }),
    fc.record({
      member: fc.constant('typ'),
      value: fc.constantFrom(
        'JWT',
        'jwt',
        'client-authentication+jwt',
        'at+jwt',
        'JOSE',
        'dpop+jwt',
      ),
    }),
    fc.record({ member: fc.constant('crit'), value: fc.constantFrom(['b64'], ['exp'], [], 'b64') }),
    fc.record({ member: hostileString(12), value: jwtMemberValue() }),
  );
}

function claimChange(): fc.Arbitrary<ClaimChange> {
  return fc.oneof(
    fc.record({
      claim: fc.constantFrom(...CLAIMS),
      value: fc.oneof(jwtMemberValue(), fc.constant(undefined)),
    }),
    fc.record({ claim: hostileString(12), value: jwtMemberValue() }),
  );
}

/** Any {@link AssertionMutation}. */
export function assertionMutation(): fc.Arbitrary<AssertionMutation> {
  const segmentText = fc.oneof(
    fc.constantFrom('.', '..', ' ', '\n', '=', '==', '+', '/', '\u00e9', '\u0000', '%2E'),
    hostileString(8),
  );
  return fc.oneof(
    fc.record({
      kind: fc.constant('flip-signature-bit' as const),
      byte: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({
      kind: fc.constant('replace-char' as const),
      at: fc.nat(),
      by: fc.oneof(
        fc.constantFrom(...BASE64URL_ALPHABET.split('')),
        fc.constantFrom('.', '=', '+', '/', ' ', '\u00e9', '\u0000'),
      ),
    }),
    fc.record({
      kind: fc.constant('replace-segment-end' as const),
      segment: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      by: fc.constantFrom(...BASE64URL_ALPHABET.split('')),
    }),
    fc.record({
      kind: fc.constant('swap-segments' as const),
      order: fc.constantFrom<[number, number, number]>(
        [1, 0, 2],
        [0, 2, 1],
        [2, 1, 0],
        [1, 2, 0],
        [2, 0, 1],
      ),
    }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: segmentText }),
    fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
    fc.record({ kind: fc.constant('drop-signature' as const), withDot: fc.boolean() }),
    fc.record({
      kind: fc.constant('header' as const),
      changes: fc.array(headerChange(), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('payload' as const),
      changes: fc.array(claimChange(), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('replace-segment' as const),
      segment: fc.constantFrom<0 | 1>(0, 1),
      value: hostileJson(2),
      raw: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('splice' as const),
      segment: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
    }),
  );
}

const encodeSegment = (value: unknown): string =>
  Buffer.from(jsonText(value)).toString('base64url');

function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function withChanges(
  object: Record<string, unknown>,
  changes: readonly { readonly key: string; readonly value: unknown }[],
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...object };
  for (const { key, value } of changes) {
    if (value === undefined) delete copy[key];
    else
      Object.defineProperty(copy, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

/**
 * Applies a mutation to `assertion`, a valid compact JWS. `other` is a valid assertion of
 * another client (for `splice`). The result may equal the input for a few no-op mutations;
 * callers skip those.
 */
export function applyAssertionMutation(
  assertion: string,
  mutation: AssertionMutation,
  other: string,
): string {
  const parts = assertion.split('.') as [string, string, string];
  const [header, payload, signature] = parts;
  switch (mutation.kind) {
    case 'flip-signature-bit': {
      const bytes = Buffer.from(signature, 'base64url');
      if (bytes.length === 0) return `${header}.${payload}.AA`;
      bytes[mutation.byte % bytes.length]! ^= 1 << mutation.bit;
      return `${header}.${payload}.${bytes.toString('base64url')}`;
    }
    case 'replace-char': {
      const at = mutation.at % assertion.length;
      let by = mutation.by;
      if (assertion[at] === by) {
        const next = BASE64URL_ALPHABET.indexOf(by);
        by = BASE64URL_ALPHABET[(next + 1) % BASE64URL_ALPHABET.length]!;
      }
      return assertion.slice(0, at) + by + assertion.slice(at + 1);
    }
    case 'replace-segment-end': {
      const replaced: string[] = [...parts];
      const text = replaced[mutation.segment]!;
      if (text === '') return assertion;
      replaced[mutation.segment] = text.slice(0, -1) + mutation.by;
      return replaced.join('.');
    }
    case 'swap-segments':
      return mutation.order.map((index) => parts[index]).join('.');
    case 'insert': {
      const at = mutation.at % (assertion.length + 1);
      return assertion.slice(0, at) + mutation.text + assertion.slice(at);
    }
    case 'truncate':
      return assertion.slice(0, mutation.keep % assertion.length);
    case 'drop-signature':
      return mutation.withDot ? `${header}.${payload}.` : `${header}.${payload}`;
    case 'header': {
      const changed = withChanges(
        decodeSegment(header),
        mutation.changes.map((change) => ({ key: change.member, value: change.value })),
      );
      return `${encodeSegment(changed)}.${payload}.${signature}`;
    }
    case 'payload': {
      const changed = withChanges(
        decodeSegment(payload),
        mutation.changes.map((change) => ({ key: change.claim, value: change.value })),
      );
      return `${header}.${encodeSegment(changed)}.${signature}`;
    }
    case 'replace-segment': {
      const text =
        mutation.raw && typeof mutation.value === 'string'
          ? mutation.value
          : encodeSegment(mutation.value);
      const replaced: string[] = [...parts];
      replaced[mutation.segment] = text;
      return replaced.join('.');
    }
    case 'splice': {
      const replaced: string[] = [...parts];
      replaced[mutation.segment] = other.split('.')[mutation.segment] ?? '';
      return replaced.join('.');
    }
  }
}

/**
 * A claim change that breaks a rule of SPEC S2.6 whatever the rest of the assertion says, for
 * re-signed assertions (the signature verifies, the claims must still be refused). `now` is the
 * verification time in seconds, `clientId` the assertion's client, `accepted` every audience
 * the verifier accepts, `leeway` and `cap` the clock leeway and lifetime cap.
 */
export function invalidClaimChange(context: {
  readonly now: number;
  readonly clientId: string;
  readonly accepted: readonly string[];
  readonly leeway: number;
  readonly cap: number;
}): fc.Arbitrary<readonly ClaimChange[]> {
  const { now, clientId, accepted, leeway, cap } = context;
  const notString = fc.oneof(
    fc.constantFrom(0, 1, true, null, [], {}, [clientId], { iss: clientId }),
    fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'string'),
  );
  const notNumber = fc.oneof(
    fc.constantFrom('1', String(now + 60), true, null, [], {}, [now + 60]),
    fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'number'),
  );
  const otherString = hostileString(40).filter((v) => v !== clientId);
  const wrongAud = fc.oneof(
    hostileString(40).filter((v) => v !== '' && !accepted.includes(v)),
    fc
      .array(hostileString(20), { minLength: 1, maxLength: 3 })
      .filter((list) => !list.some((v) => accepted.includes(v))),
    fc.constantFrom(1, true, {}, [1], [null], null, ''),
  );
  const one = (claim: string, value: fc.Arbitrary<unknown>) =>
    value.map((v) => [{ claim, value: v }] as const);
  return fc.oneof(
    one('iss', fc.oneof(notString, otherString, fc.constant(undefined))),
    one('sub', fc.oneof(notString, otherString, fc.constant(undefined))),
    one('aud', fc.oneof(wrongAud, fc.constant(undefined))),
    one('exp', fc.oneof(notNumber, fc.constant(undefined))),
    one('exp', fc.integer({ min: -(2 ** 40), max: now - leeway })),
    one('exp', fc.integer({ min: now + cap + leeway + 1, max: 2 ** 45 })),
    one('exp', fc.constantFrom(1e308, 2 ** 53)),
    one('nbf', fc.oneof(notNumber, fc.integer({ min: now + leeway + 1, max: 2 ** 45 }))),
    one('iat', fc.oneof(notNumber, fc.integer({ min: now + leeway + 1, max: 2 ** 45 }))),
    // exp − iat beyond the cap while exp itself is fine.
    fc.integer({ min: cap + 1, max: 10 * cap }).map(
      (age) =>
        [
          { claim: 'exp', value: now + 30 },
          { claim: 'iat', value: now + 30 - age },
        ] as const,
    ),
    one('jti', fc.oneof(notString, fc.constant(''), fc.constant(undefined))),
  );
}

// ---------------------------------------------------------------------------------------------
// JWK Sets

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const JWK_MEMBERS = [
  'kty',
  'crv',
  'alg',
  'kid',
  'use',
  'key_ops',
  'n',
  'e',
  'x',
  'y',
  'x5c',
  'ext',
];

/** One edit of one key: a member set (`undefined`: removed), or the whole key replaced. */
export type JwkEdit =
  { readonly member: string; readonly value: unknown } | { readonly replaceWith: unknown };

/** An edit of a JWK: type swaps, members of other keys, private members, deep nesting. */
export function jwkEdit(
  publicKeys: readonly Record<string, unknown>[],
  privateKeys: readonly Record<string, unknown>[] = [],
): fc.Arbitrary<JwkEdit> {
  const memberValues = publicKeys.flatMap((key) => Object.values(key));
  return fc.oneof(
    fc.record({
      member: fc.constantFrom(...JWK_MEMBERS),
      value: fc.oneof(jwtMemberValue(), fc.constant(undefined)),
    }),
    fc.record({
      member: fc.constantFrom(...JWK_MEMBERS, ...PRIVATE_JWK_MEMBERS),
      value: fc.constantFrom(...memberValues),
    }),
    fc.record({
      member: fc.constantFrom('kty', 'crv', 'alg'),
      value: fc.constantFrom(
        'RSA',
        'EC',
        'OKP',
        'oct',
        'P-256',
        'P-521',
        'Ed25519',
        'X25519',
        'secp256k1',
        'ES256',
        'RS256',
        'EdDSA',
        'HS256',
        'none',
        'RSA-OAEP',
      ),
    }),
    fc.record({
      // Deeply nested members a set may carry that the validator does not read.
      member: fc.constantFrom('x5c', 'ext', 'meta', 'key_ops'),
      value: fc
        .tuple(fc.integer({ min: 17, max: 20_000 }), fc.constantFrom('array', 'object'))
        .map(([depth, kind]) => nested(depth, kind as 'array' | 'object')),
    }),
    fc.record({ member: hostileString(12), value: hostileJson(2) }),
    fc.record({
      replaceWith:
        privateKeys.length > 0
          ? fc.oneof(hostileJson(), fc.constantFrom(...privateKeys))
          : hostileJson(),
    }),
  );
}

/**
 * A JWK Set built from `publicKeys` (some repeated, so `kid`s may collide) with one to four
 * {@link jwkEdit}s applied, and sometimes extra top-level members.
 */
export function mutatedJwks(
  publicKeys: readonly Record<string, unknown>[],
  privateKeys: readonly Record<string, unknown>[] = [],
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.array(fc.constantFrom(...publicKeys), { minLength: 0, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), jwkEdit(publicKeys, privateKeys)), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.option(fc.dictionary(hostileString(12), hostileJson(2), { maxKeys: 3 }), {
        nil: undefined,
      }),
    )
    .map(([keys, edits, extra]) => {
      const copies: unknown[] = keys.map((key) => ({ ...key }));
      for (const [index, edit] of edits) {
        if (copies.length === 0) copies.push({});
        const at = index % copies.length;
        if ('replaceWith' in edit) {
          copies[at] = edit.replaceWith;
          continue;
        }
        const target = copies[at];
        if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
        if (edit.value === undefined) delete (target as Record<string, unknown>)[edit.member];
        else
          Object.defineProperty(target, edit.member, {
            value: edit.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      return { ...extra, keys: copies };
    });
}

// ---------------------------------------------------------------------------------------------
// Registration and admin bodies

/** RFC 7591 §2 client metadata members (wire names). */
export const CLIENT_METADATA_MEMBERS: readonly string[] = [
  'redirect_uris',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'scope',
  'contacts',
  'jwks',
  'jwks_uri',
  'software_id',
  'software_version',
  'software_statement',
];

/** The admin API's client members: the metadata plus the registry's own settings. */
export const ADMIN_CLIENT_MEMBERS: readonly string[] = [
  ...CLIENT_METADATA_MEMBERS,
  'client_id',
  'audience_policy',
  'require_string_audience',
  'max_assertion_lifetime',
  'enabled',
  'federated_only',
];

/**
 * Valid (and nearly valid) values per wire member of the registration and admin APIs, so that
 * validation regularly gets past the first field. No value names a host that would be resolved:
 * `jwks_uri` values are refused by shape or by address before any lookup.
 */
export const WIRE_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  token_endpoint_auth_method: [
    'private_key_jwt',
    'client_secret_jwt',
    'client_secret_basic',
    'client_secret_post',
    'none',
  ],
  token_endpoint_auth_signing_alg: ['ES256', 'RS256', 'HS256', 'EdDSA', 'none'],
  grant_types: [['client_credentials'], ['client_credentials', 'client_credentials'], []],
  response_types: [[], ['code']],
  redirect_uris: [['https://client.example.com/cb'], ['http://127.0.0.1/cb']],
  client_name: ['svc', ''],
  client_uri: ['https://client.example.com'],
  scope: ['read write', 'read  write', ''],
  contacts: [['ops@example.com']],
  jwks_uri: [
    'https://10.1.2.3/jwks',
    'https://[::ffff:127.0.0.1]/jwks',
    'http://169.254.169.254/latest/meta-data',
    'https://user:pw@10.0.0.1/jwks',
    'https://10.0.0.1/jwks#k',
    'ftp://10.0.0.1/jwks',
    'not a url',
  ],
  software_id: ['4NRB1-0XZABZI9E6-5SM3R'],
  software_version: ['1.0'],
  software_statement: ['a.b.c'],
  client_id: ['svc', 'svc\u0000', ''],
  audience_policy: ['compat', 'strict', 'lax'],
  require_string_audience: [true, false, 'true'],
  max_assertion_lifetime: [60, 0, 3601, 1.5],
  enabled: [true, false, 0],
  federated_only: [true, false],
  not_before: ['2030-01-01T00:00:00Z', 'yesterday', 0],
  expires_at: ['2031-01-01T00:00:00Z', '2029-01-01T00:00:00Z'],
  overlap_seconds: [0, 3600, -1, 1e9],
  at: ['2030-01-01T00:00:00Z'],
  expires_in: [3600, 59, 31_536_001],
  max_uses: [1, 0, 1_000_001],
  description: ['for CI'],
  issuer: ['https://issuer.example.com', 'https://issuer.example.com/?q', 'issuer'],
  subject: ['system:serviceaccount:ns:*', '*', 'repo:org/*:ref:*'],
  audience: ['https://as.example.test'],
  required_claims: [{ namespace: 'payments' }, { iss: 'x' }, { a: 1 }],
  max_lifetime: [3600, 0],
  replay: ['single_use', 'reuse_within_lifetime', 'never'],
  name: ['ci'],
  limit: [10, '10', 0, 501],
  offset: [0, '5', -1],
  method: ['private_key_jwt', 'x'],
  status: ['enabled', 'disabled', 'x'],
  before: ['2030-01-01T00:00:00Z'],
};

/**
 * A registration or admin body with `members` (valid, nearly valid or hostile values, see
 * {@link WIRE_VALUES} and `values`), and sometimes a `jwks` / `jwk` from the given arbitraries.
 */
export function wireObject(
  members: readonly string[],
  options: {
    readonly jwks?: fc.Arbitrary<unknown>;
    readonly jwk?: fc.Arbitrary<unknown>;
    readonly values?: Readonly<Record<string, readonly unknown[]>>;
  } = {},
): fc.Arbitrary<Record<string, unknown>> {
  const values: Record<string, readonly unknown[]> = { ...WIRE_VALUES };
  for (const [name, extra] of Object.entries(options.values ?? {})) {
    values[name] = [...(values[name] ?? []), ...extra];
  }
  const none = fc.constant(undefined);
  return fc
    .tuple(
      hostileObject(members, values),
      options.jwks && members.includes('jwks') ? fc.option(options.jwks, { nil: undefined }) : none,
      options.jwk && members.includes('jwk') ? fc.option(options.jwk, { nil: undefined }) : none,
    )
    .map(([object, set, key]) => {
      if (set !== undefined) object.jwks = set;
      if (key !== undefined) object.jwk = key;
      return object;
    });
}
