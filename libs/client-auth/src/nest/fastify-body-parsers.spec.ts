import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  type OAuthBodyParserOptions,
  parseForm,
  parseStrictJson,
  registerOAuthBodyParsers,
} from './fastify-body-parsers.js';

/** What the echo route saw: the parsed body and facts about it only the server can observe. */
interface Echo {
  readonly body: unknown;
  readonly bodyIsUndefined: boolean;
  readonly prototypeIsNull: boolean | null;
  readonly ownKeys: string[];
  readonly pollutedAfter: unknown;
}

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

const FORM = 'application/x-www-form-urlencoded';

/** A Fastify instance with the OAuth parsers and `POST /echo`, listening on loopback. */
async function startEcho(
  options?: OAuthBodyParserOptions,
  register: (app: FastifyInstance) => void = (app) => registerOAuthBodyParsers(app, options),
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  register(app);
  app.post('/echo', async (req): Promise<Echo> => {
    const body = req.body;
    const isObject = typeof body === 'object' && body !== null;
    return {
      body: body ?? null,
      bodyIsUndefined: body === undefined,
      prototypeIsNull: isObject ? Object.getPrototypeOf(body) === null : null,
      ownKeys: isObject ? Reflect.ownKeys(body).map(String) : [],
      pollutedAfter: ({} as Record<string, unknown>).polluted ?? null,
    };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

/**
 * A POST with exactly these headers (node:http adds none but `Host`, `Content-Length` and
 * `Connection`), so Content-Type, charset and Content-Encoding reach the server as written.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string | Buffer = '',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/echo`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // not JSON: the assertions look at `text`
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const form = (url: string, body: string, contentType = FORM) =>
  post(url, { 'content-type': contentType }, body);
const json = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  post(url, { 'content-type': 'application/json', ...headers }, body);
const echoOf = (answer: Answer) => answer.json as unknown as Echo;

/** `n` distinct parameters `p0=0&p1=1…`. */
const parameters = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join('&');

describe('registerOAuthBodyParsers on a real Fastify instance', () => {
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startEcho({ bodyLimit: 4096 }));
  });
  afterAll(() => app?.close());

  describe('application/x-www-form-urlencoded (RFC 6749 §3.2, Appendix B)', () => {
    it('parses a flat object: a repeated name becomes an array, + and %XX are decoded', async () => {
      const res = await form(url, 'grant_type=client_credentials&scope=a+b%20c&aud=1&aud=2&e=%2B');
      expect(res.status).toBe(200);
      expect(echoOf(res).body).toEqual({
        grant_type: 'client_credentials',
        scope: 'a b c',
        aud: ['1', '2'],
        e: '+',
      });
    });

    it('keeps bracketed names as plain names (no nesting)', async () => {
      const res = await form(url, 'a[b]=1&c[]=2');
      expect(echoOf(res).body).toEqual({ 'a[b]': '1', 'c[]': '2' });
    });

    it('builds an object without prototype: __proto__ is an own key and nothing is polluted', async () => {
      const res = await form(
        url,
        '__proto__=x&__proto__[polluted]=yes&constructor[prototype][polluted]=yes&polluted=own',
      );
      expect(res.status).toBe(200);
      const echo = echoOf(res);
      expect(echo.prototypeIsNull).toBe(true);
      expect(echo.ownKeys).toEqual(
        expect.arrayContaining([
          '__proto__',
          '__proto__[polluted]',
          'constructor[prototype][polluted]',
          'polluted',
        ]),
      );
      expect(echo.pollutedAfter).toBeNull();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('accepts 100 parameters and refuses 101 with 413', async () => {
      const hundred = await form(url, parameters(100));
      expect(hundred.status).toBe(200);
      expect(Object.keys(echoOf(hundred).body as object)).toHaveLength(100);

      const tooMany = await form(url, parameters(101));
      expect(tooMany.status).toBe(413);
      expect(tooMany.json.message).toBe('the request body has too many parameters');
    });

    it.each([
      ['no charset', FORM],
      ['charset=UTF-8', `${FORM}; charset=UTF-8`],
      ['charset=utf8', `${FORM};charset=utf8`],
      ['quoted charset="utf-8"', `${FORM}; charset="utf-8"`],
      ['charset=us-ascii', `${FORM}; charset=us-ascii`],
    ])('accepts %s', async (_name, contentType) => {
      const res = await form(url, 'client_id=svc', contentType);
      expect(res.status).toBe(200);
      expect(echoOf(res).body).toEqual({ client_id: 'svc' });
    });

    it.each([
      ['charset=utf-16', `${FORM}; charset=utf-16`],
      ['charset=ISO-8859-1', `${FORM}; charset=ISO-8859-1`],
    ])('refuses %s with 415, never guessing the encoding', async (_name, contentType) => {
      const res = await form(url, 'client_id=svc', contentType);
      expect(res.status).toBe(415);
      expect(res.json.message).toBe('the request body must be UTF-8 (RFC 6749 Appendix B)');
    });

    it('refuses Content-Encoding: gzip with 415 and accepts identity', async () => {
      const gzip = await post(
        url,
        { 'content-type': FORM, 'content-encoding': 'gzip' },
        gzipSync('client_id=svc'),
      );
      expect(gzip.status).toBe(415);
      expect(gzip.json.message).toBe('the request body must not be content-encoded');

      const identity = await post(
        url,
        { 'content-type': FORM, 'content-encoding': 'identity' },
        'client_id=svc',
      );
      expect(identity.status).toBe(200);
      expect(echoOf(identity).body).toEqual({ client_id: 'svc' });
    });

    it('parses an empty form body as an empty object', async () => {
      const res = await form(url, '');
      expect(res.status).toBe(200);
      expect(echoOf(res).body).toEqual({});
    });
  });

  describe('application/json (RFC 7591 §3.1), strict', () => {
    it.each([
      [
        'an object',
        '{"client_name":"svc","redirect_uris":[]}',
        { client_name: 'svc', redirect_uris: [] },
      ],
      ['an array', ' [1, "two"] ', [1, 'two']],
    ])('accepts %s', async (_name, body, parsed) => {
      const res = await json(url, body);
      expect(res.status).toBe(200);
      expect(echoOf(res).body).toEqual(parsed);
    });

    it.each(['null', '42', '"x"', 'true', ''])(
      'refuses the top-level document %j with 400',
      async (body) => {
        const res = await json(url, body);
        expect(res.status).toBe(400);
        expect(res.json.message).toBe('the request body is not valid JSON');
      },
    );

    it('refuses broken JSON with the fixed description, never echoing the body', async () => {
      const res = await json(url, '{"client_secret":"s3cr3t-do-not-echo", "x": ');
      expect(res.status).toBe(400);
      expect(res.json.message).toBe('the request body is not valid JSON');
      expect(res.text).not.toContain('s3cr3t');
      expect(res.text).not.toContain('client_secret');
    });

    it('refuses Content-Encoding: gzip with 415 and a non-UTF-8 charset with 415', async () => {
      const gzip = await json(url, gzipSync('{"a":1}'), { 'content-encoding': 'gzip' });
      expect(gzip.status).toBe(415);
      expect(gzip.json.message).toBe('the request body must not be content-encoded');

      const utf16 = await post(
        url,
        { 'content-type': 'application/json; charset=utf-16' },
        '{"a":1}',
      );
      expect(utf16.status).toBe(415);

      const identity = await json(url, '{"a":1}', { 'content-encoding': 'identity' });
      expect(identity.status).toBe(200);
      expect(echoOf(identity).body).toEqual({ a: 1 });
    });
  });

  describe('any other media type', () => {
    it.each([
      ['application/octet-stream', { 'content-type': 'application/octet-stream' }],
      ['text/plain', { 'content-type': 'text/plain' }],
      ['text/plain with charset', { 'content-type': 'text/plain; charset=utf-8' }],
      ['application/xml', { 'content-type': 'application/xml' }],
      ['no Content-Type', {}],
    ])('%s: the route runs with an undefined body', async (_name, headers) => {
      const res = await post(url, headers, 'client_id=svc&client_secret=x');
      expect(res.status).toBe(200);
      expect(echoOf(res).bodyIsUndefined).toBe(true);
    });
  });

  describe('bodyLimit', () => {
    it.each([
      ['a form', FORM],
      ['a JSON document', 'application/json'],
      ['a text/plain body', 'text/plain'],
      ['an application/octet-stream body', 'application/octet-stream'],
    ])("refuses %s over the limit with Fastify's 413", async (_name, contentType) => {
      const res = await post(url, { 'content-type': contentType }, `a=${'x'.repeat(5000)}`);
      expect(res.status).toBe(413);
      expect(res.json.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    });

    it('accepts a body at the limit', async () => {
      const body = `a=${'x'.repeat(4094)}`;
      expect(Buffer.byteLength(body)).toBe(4096);
      const res = await form(url, body);
      expect(res.status).toBe(200);
    });
  });
});

describe('registerOAuthBodyParsers registered twice', () => {
  let started: { app: FastifyInstance; url: string } | undefined;
  afterEach(async () => {
    await started?.app.close();
    started = undefined;
  });

  it('replaces the parsers (the second options apply) instead of failing', async () => {
    started = await startEcho(undefined, (app) => {
      registerOAuthBodyParsers(app, { parameterLimit: 100, bodyLimit: 4096 });
      registerOAuthBodyParsers(app, { parameterLimit: 2, bodyLimit: 64 });
    });
    expect((await form(started.url, 'a=1&b=2')).status).toBe(200);
    expect((await form(started.url, 'a=1&b=2&c=3')).status).toBe(413);
    const big = await post(
      started.url,
      { 'content-type': 'application/octet-stream' },
      'x'.repeat(100),
    );
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  });

  it('uses 100 parameters and 64 KiB by default', async () => {
    started = await startEcho();
    expect((await form(started.url, parameters(100))).status).toBe(200);
    expect((await form(started.url, parameters(101))).status).toBe(413);
    expect((await form(started.url, `a=${'x'.repeat(64 * 1024 - 2)}`)).status).toBe(200);
    const over = await form(started.url, `a=${'x'.repeat(64 * 1024)}`);
    expect(over.status).toBe(413);
    expect(over.json.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  });
});

describe('parseForm', () => {
  const parse = (text: string, limit = 100) => parseForm(Buffer.from(text, 'utf8'), limit);

  it('returns an empty object without prototype for an empty body', () => {
    const parsed = parse('');
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.keys(parsed)).toEqual([]);
  });

  it.each([
    ['a=1&b=2', { a: '1', b: '2' }],
    ['a=1&a=2&a=3', { a: ['1', '2', '3'] }],
    ['q=a+b', { q: 'a b' }],
    ['q=%2B%26%3D', { q: '+&=' }],
    ['name=J%C3%BCrgen', { name: 'Jürgen' }],
    ['flag', { flag: '' }],
    ['a=1&', { a: '1' }],
    ['a[b]=1', { 'a[b]': '1' }],
  ])('parses %j', (text, expected) => {
    expect({ ...parse(text) }).toEqual(expected);
  });

  it('keeps a malformed percent escape as a string instead of failing', () => {
    expect(typeof parse('bad=%E0%A4%A&ok=1').bad).toBe('string');
    expect(parse('bad=%zz').bad).toBe('%zz');
  });

  it('makes __proto__ an own key of a prototype-less object', () => {
    const parsed = parse('__proto__=x&constructor=y');
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('x');
    expect(parsed.constructor).toBe('y');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('counts parameters by separator: the limit itself passes, one more is 413', () => {
    expect(Object.keys(parse(parameters(5), 5))).toHaveLength(5);
    const refuse = () => parse(parameters(6), 5);
    expect(refuse).toThrow(PayloadTooLargeException);
    expect(refuse).toThrow('the request body has too many parameters');
    // Empty pairs count too: the limit bounds the work done, not the keys kept.
    expect(() => parse('a=1&&&&&', 5)).toThrow(PayloadTooLargeException);
  });
});

describe('parseStrictJson', () => {
  const parse = (text: string) => parseStrictJson(Buffer.from(text, 'utf8'));

  it.each([
    ['{"a":1}', { a: 1 }],
    ['  {"a":[1,2]}\n', { a: [1, 2] }],
    ['[]', []],
    ['[{"b":null}]', [{ b: null }]],
  ])('accepts %j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each([
    'null',
    '42',
    '-1',
    '"x"',
    'true',
    'false',
    '',
    '   ',
    '{',
    '{"a":1',
    '[1,]',
    "{'a':1}",
  ])('refuses %j with 400 and the fixed description', (text) => {
    let caught: unknown;
    try {
      parse(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BadRequestException);
    expect((caught as BadRequestException).getStatus()).toBe(400);
    expect((caught as BadRequestException).message).toBe('the request body is not valid JSON');
  });

  it('never quotes the document in its error', () => {
    expect(() => parse('{"client_secret":"s3cr3t", ')).toThrow(
      /^the request body is not valid JSON$/,
    );
  });

  it('makes a __proto__ member an own property without changing the prototype', () => {
    const parsed = parse('{"__proto__":{"polluted":"yes"},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(parsed.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
