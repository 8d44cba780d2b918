import type { IncomingMessage } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';

/** Options of {@link registerOAuthBodyParsers}. */
export interface OAuthBodyParserOptions {
  /** Largest body accepted, in bytes. Default 64 KiB. */
  readonly bodyLimit?: number;
  /** Most parameters a form body may carry. Default 100. */
  readonly parameterLimit?: number;
}

/** The part of a Fastify instance the parsers are registered on. */
export interface ContentTypeParserHost {
  addContentTypeParser(
    contentType: string | string[],
    options: { parseAs: 'buffer'; bodyLimit: number },
    parser: (
      request: unknown,
      body: Buffer,
      done: (error: Error | null, body?: unknown) => void,
    ) => void,
  ): unknown;
  hasContentTypeParser(contentType: string): boolean;
  removeContentTypeParser(contentType: string | string[]): unknown;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/**
 * Body parsing for OAuth endpoints on Nest's Fastify adapter, with the rules the token,
 * introspection, revocation and registration endpoints need:
 *
 * - `application/x-www-form-urlencoded` (RFC 6749 §3.2, Appendix B): UTF-8 only (another declared
 *   charset is refused with 415, never guessed), at most `parameterLimit` parameters (413), values
 *   kept flat — a repeated parameter becomes an array, which client authentication refuses
 *   (RFC 6749 §3.2: parameters must not be repeated). No prototype is inherited from the parsed
 *   object, so `__proto__` is an ordinary name.
 * - `application/json` (RFC 7591 §3.1): UTF-8, and strict — the document must be an object or an
 *   array; a bare `null`, string, number or boolean is malformed (400).
 * - a `Content-Encoding` other than `identity` is refused (415): bodies are never decompressed,
 *   so a small request cannot expand past the body limit, and an encoded body is never read as
 *   if it were plain.
 * - any other media type: the body is read (within the limit) and dropped, so the endpoint answers
 *   in its own terms (the token endpoint refuses a non-form body, registration a non-JSON one)
 *   instead of a bare 415 from the platform.
 *
 * Errors are Nest `HttpException`s with fixed descriptions that never quote the body; the
 * `OAuthEndpointExceptionFilter` renders them as `invalid_request`.
 *
 * @example
 * ```ts
 * const adapter = new FastifyAdapter({ bodyLimit: 64 * 1024 });
 * registerOAuthBodyParsers(adapter.getInstance());
 * const app = await NestFactory.create(AppModule, adapter, { bodyParser: false });
 * ```
 */
export function registerOAuthBodyParsers(
  fastify: ContentTypeParserHost,
  options: OAuthBodyParserOptions = {},
): void {
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  const parameterLimit = options.parameterLimit ?? 100;
  // Fastify's own text/plain parser too: otherwise it outranks '*' and keeps a string body.
  for (const type of [FORM, JSON_TYPE, 'text/plain', '*']) {
    if (fastify.hasContentTypeParser(type)) fastify.removeContentTypeParser(type);
  }
  const settings = { parseAs: 'buffer' as const, bodyLimit };
  fastify.addContentTypeParser(FORM, settings, (request, body, done) => {
    try {
      requirePlainUtf8(request);
      done(null, parseForm(body, parameterLimit));
    } catch (error) {
      done(error as Error);
    }
  });
  fastify.addContentTypeParser(JSON_TYPE, settings, (request, body, done) => {
    try {
      requirePlainUtf8(request);
      done(null, parseStrictJson(body));
    } catch (error) {
      done(error as Error);
    }
  });
  fastify.addContentTypeParser('*', settings, (_request, _body, done) => done(null, undefined));
}

/** A form body as a flat object without prototype; repeated names become arrays. */
export function parseForm(body: Buffer, parameterLimit: number): Record<string, string | string[]> {
  if (body.length === 0) return Object.create(null) as Record<string, string | string[]>;
  const text = body.toString('utf8');
  let pairs = 1;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) pairs++;
  if (pairs > parameterLimit) {
    throw new PayloadTooLargeException('the request body has too many parameters');
  }
  try {
    return parseQueryString(text, '&', '=', { maxKeys: 0 }) as Record<string, string | string[]>;
  } catch {
    throw new BadRequestException('the request body is not a valid form');
  }
}

/**
 * A JSON document whose top level is an object or an array. `JSON.parse` makes a `__proto__`
 * member an ordinary own property (no prototype is changed); the registry ignores unknown members.
 */
export function parseStrictJson(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  if (text[0] !== '{' && text[0] !== '[') throw notJson();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw notJson();
  }
  return value;
}

function notJson(): HttpException {
  return new BadRequestException('the request body is not valid JSON');
}

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/**
 * Refuses a body declared in a charset other than UTF-8 (or its ASCII subset), or sent with a
 * content coding.
 */
function requirePlainUtf8(request: unknown): void {
  const holder = (request as { raw?: IncomingMessage; headers?: IncomingMessage['headers'] }) ?? {};
  const headers = holder.headers ?? holder.raw?.headers ?? {};
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new UnsupportedMediaTypeException('the request body must not be content-encoded');
  }
  const type = headers['content-type'] ?? '';
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (
    charset !== undefined &&
    charset !== 'utf-8' &&
    charset !== 'utf8' &&
    charset !== 'us-ascii'
  ) {
    throw new UnsupportedMediaTypeException('the request body must be UTF-8 (RFC 6749 Appendix B)');
  }
}
