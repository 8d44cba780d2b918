import 'reflect-metadata';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { createApp } from './bootstrap.js';

/** How long workers may take to finish their in-flight requests after a stop signal. */
const WORKER_DRAIN_MS = 30_000;
/** Unexpected worker exits within this window make the next restart wait longer. */
const CRASH_WINDOW_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const workers = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (cluster.isPrimary && workers > 1) {
    await runPrimary(config, workers);
  } else {
    await serve(config);
  }
}

/** One server process: the only one (`WORKERS=1`), or a cluster worker sharing the port. */
async function serve(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  await app.listen(config.port);
  const who = cluster.isWorker ? `worker ${process.pid} ` : '';
  new Logger('Bootstrap').log(`${who}listening on port ${config.port}, issuer ${config.issuer}`);
}

/**
 * `WORKERS` > 1 (or `auto`: one per core): the primary prepares the shared state once, then forks
 * the workers, which share the listening port (Node's cluster module). It restarts a worker that
 * dies, and on SIGTERM/SIGINT lets every worker finish its in-flight requests before exiting.
 */
async function runPrimary(config: AppConfig, count: number): Promise<void> {
  // Migrations, the generated server keys and (on the embedded default) the generated secret
  // encryption key are created here, once, before any worker starts: workers starting together
  // would otherwise race to create them. Starting the application without listening does it all.
  try {
    const app = await createApp(
      { ...config, shutdownDelayMs: 0 },
      { logger: ['fatal', 'error', 'warn'] },
    );
    await app.init();
    await app.close();
  } catch (error) {
    console.error(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  // The preparation app's pino logger closed with it: the primary logs JSON lines of its own.
  Logger.overrideLogger(new ConsoleLogger({ json: true, logLevels: logLevels(config.logLevel) }));
  const logger = new Logger('Cluster');

  let stopping = false;
  let crashes: number[] = [];
  const live = () => Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (live().length === 0) {
        logger.log('all workers stopped');
        process.exit(0);
      }
      return;
    }
    const now = Date.now();
    crashes = [...crashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
    const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (crashes.length - 1));
    logger.error(
      `worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); replacing it in ${delay} ms`,
    );
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, delay);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = live();
    logger.log(`${signal}: stopping ${workers.length} workers`);
    if (workers.length === 0) process.exit(0);
    // Each worker closes its listener, finishes in-flight requests, runs the shutdown hooks.
    for (const worker of workers) worker.process.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const worker of live()) {
        logger.error(`worker ${worker.process.pid} did not stop in time; killing it`);
        worker.process.kill('SIGKILL');
      }
    }, config.shutdownDelayMs + WORKER_DRAIN_MS);
    deadline.unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < count; i++) cluster.fork();
  logger.log(`primary ${process.pid} started ${count} workers on port ${config.port}`);
}

/** The Nest log levels of `LOG_LEVEL` (as `createApp` applies them in each server process). */
function logLevels(level: AppConfig['logLevel']): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, ['error', 'warn', 'log', 'debug', 'verbose'].indexOf(level) + 2);
}

void main();
