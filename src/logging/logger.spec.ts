import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../config/app-config.js';
import { createLogger, installRequestLogging, PinoNestLogger } from './logger.js';

/** A logger at `level` whose JSON lines are collected. */
function capture(level: 'info' | 'debug' | 'error') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const logger = createLogger(loadConfig({}), { level, stream });
  return { logger, lines };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('PinoNestLogger', () => {
  it('writes Nest log calls as JSON lines with their context', async () => {
    const { logger, lines } = capture('debug');
    const nest = new PinoNestLogger(logger);
    nest.log('started', 'Bootstrap');
    nest.warn('careful', 'ClientAuth');
    nest.debug({ a: 1 }, 'Debugging');
    nest.verbose('too fine'); // trace: below debug, dropped
    await flush();
    expect(lines.map(({ level, context, msg }) => ({ level, context, msg }))).toEqual([
      { level: 30, context: 'Bootstrap', msg: 'started' },
      { level: 40, context: 'ClientAuth', msg: 'careful' },
      { level: 20, context: 'Debugging', msg: '{"a":1}' },
    ]);
  });

  it('keeps the stack and the context of error calls apart', async () => {
    const { logger, lines } = capture('info');
    const nest = new PinoNestLogger(logger);
    const stack = new Error('boom').stack!;
    nest.error('unexpected error', stack, 'OAuthEndpoint');
    nest.error('dependency down', 'Database');
    nest.error('bare stack', stack);
    await flush();
    expect(lines[0]).toMatchObject({ level: 50, context: 'OAuthEndpoint', stack });
    expect(lines[1]).toMatchObject({ level: 50, context: 'Database', msg: 'dependency down' });
    expect(lines[1]!.stack).toBeUndefined();
    expect(lines[2]).toMatchObject({ level: 50, msg: 'bare stack', stack });
    expect(lines[2]!.context).toBeUndefined();
  });

  it('redacts secrets handed to it under a known name', async () => {
    const { logger, lines } = capture('info');
    logger.info({ body: { client_secret: 's3cret-value' }, req: { headers: { a: 'b' } } }, 'x');
    await flush();
    expect(JSON.stringify(lines)).not.toContain('s3cret-value');
  });
});

describe('installRequestLogging (Fastify hooks)', () => {
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function serve(level: 'info' | 'debug') {
    const { logger, lines } = capture(level);
    app = Fastify();
    installRequestLogging(app, logger);
    app.get('/ok', async () => ({ ok: true }));
    app.get('/health/live', async () => ({ status: 'ok' }));
    app.get('/fail', async (_request, reply) => reply.code(401).send({ error: 'invalid_client' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    return { base: `http://127.0.0.1:${address.port}`, lines };
  }

  it('gives every response a request id, echoing a well-formed one', async () => {
    const { base } = await serve('info');
    const echoed = await fetch(`${base}/ok`, { headers: { 'x-request-id': 'trace-42' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-42');
    const generated = await fetch(`${base}/ok`, { headers: { 'x-request-id': 'bad id!' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs a refused request at info with id, method, path and status — never the query', async () => {
    const { base, lines } = await serve('info');
    await fetch(`${base}/fail?client_secret=in-the-query`, {
      headers: { 'x-request-id': 'refused-1' },
    });
    await fetch(`${base}/ok`);
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      req: { id: 'refused-1', method: 'GET', path: '/fail' },
      res: { statusCode: 401 },
    });
    expect(typeof lines[0]!.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('in-the-query');
  });

  it('logs successful requests at debug only, and never the liveness probe', async () => {
    const { base, lines } = await serve('debug');
    await fetch(`${base}/ok`);
    await fetch(`${base}/health/live`);
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 20, req: { path: '/ok' }, res: { statusCode: 200 } });
  });
});
