/**
 * Benchmark settings, read from the environment (documented in docs/benchmarks.md).
 */
import { cpus } from 'node:os';

/**
 * The scenarios of issue 8, in the order they run. `skip` marks a scenario that cannot run yet:
 * it is reported as skipped with its reason, never faked. `kind: 'resource'` is the
 * resource-server guard (SPEC S8) instead of the token endpoint; its `peer` says why the peer
 * has no figure for it.
 */
export const SCENARIOS = Object.freeze([
  {
    id: 'pkjwt-es256',
    label: 'private_key_jwt ES256 (inline jwks)',
    method: 'private_key_jwt',
    alg: 'ES256',
    keys: 'jwks',
  },
  {
    id: 'pkjwt-rs256',
    label: 'private_key_jwt RS256 (inline jwks)',
    method: 'private_key_jwt',
    alg: 'RS256',
    keys: 'jwks',
  },
  {
    id: 'pkjwt-eddsa',
    label: 'private_key_jwt EdDSA (inline jwks)',
    method: 'private_key_jwt',
    alg: 'EdDSA',
    keys: 'jwks',
  },
  {
    id: 'pkjwt-es256-jwks-uri',
    label: 'private_key_jwt ES256 (jwks_uri)',
    method: 'private_key_jwt',
    alg: 'ES256',
    keys: 'jwks_uri',
  },
  {
    id: 'csjwt-hs256',
    label: 'client_secret_jwt HS256',
    method: 'client_secret_jwt',
    alg: 'HS256',
    keys: 'secret',
  },
  {
    id: 'resource-guard',
    label: 'resource-server guard (GET /api/whoami)',
    // Not the token endpoint: `GET path` with a bearer token from a pool fetched up front by a
    // private_key_jwt ES256 client; the crypto limit is one access token verification.
    kind: 'resource',
    method: 'private_key_jwt',
    alg: 'ES256',
    keys: 'jwks',
    path: '/api/whoami',
    peer:
      'oidc-provider is an authorization server only: it has no guard for the routes of an ' +
      'application (its resource-server side is token introspection), so it serves no equivalent request',
  },
]);

function number(env, name, fallback, { min, max, integer = true }) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    throw new Error(
      `${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got "${raw}"`,
    );
  }
  return value;
}

function flag(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
  if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
  throw new Error(`${name} must be 1 or 0, got "${raw}"`);
}

function cpuList(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(raw.trim())) {
    throw new Error(`${name} must be a CPU list such as "0" or "0-1", got "${raw}"`);
  }
  return raw.trim();
}

/**
 * Reads and validates the benchmark settings. Throws an Error naming the bad variable.
 * @param {Record<string, string | undefined>} env
 */
export function loadBenchConfig(env = process.env) {
  const cpuCount = cpus().length;
  const pin = flag(env, 'BENCH_PIN', cpuCount >= 2);
  const selected = (env.BENCH_SCENARIOS ?? '').trim();
  const ids = selected ? selected.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.id);
  for (const id of ids) {
    if (!SCENARIOS.some((s) => s.id === id)) {
      throw new Error(
        `BENCH_SCENARIOS: unknown scenario "${id}" (known: ${SCENARIOS.map((s) => s.id).join(', ')})`,
      );
    }
  }
  const databaseUrl = (env.BENCH_DATABASE_URL ?? '').trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('BENCH_DATABASE_URL must be a postgres:// URL (an admin connection)');
  }
  const redisUrl = (env.BENCH_REDIS_URL ?? '').trim() || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new Error('BENCH_REDIS_URL must be a redis:// URL');
  }
  const serverEnv = {};
  for (const pair of (env.BENCH_SERVER_ENV ?? '').split(/[\s,]+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`BENCH_SERVER_ENV: "${pair}" is not KEY=VALUE`);
    serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return Object.freeze({
    /** Measured seconds per scenario and server. */
    duration: number(env, 'BENCH_DURATION', 10, { min: 1, max: 120 }),
    /** Warm-up seconds before each measurement (JIT, caches), not counted. */
    warmup: number(env, 'BENCH_WARMUP', 2, { min: 0, max: 60 }),
    connections: number(env, 'BENCH_CONNECTIONS', 32, { min: 1, max: 1024 }),
    /** Seconds of each crypto-limit measurement (sequential, then pipelined). */
    cryptoSeconds: number(env, 'BENCH_CRYPTO_SECONDS', 2, { min: 0.5, max: 30, integer: false }),
    /** Pool size = crypto limit × (warm-up + duration) × this factor (+ a margin). */
    poolFactor: number(env, 'BENCH_POOL_FACTOR', 1.25, { min: 0.01, max: 10, integer: false }),
    /** Used assertions re-sent per scenario and server after all the load. */
    replaySample: number(env, 'BENCH_REPLAY_SAMPLE', 200, { min: 0, max: 10_000 }),
    /** Responses decoded and checked per scenario and server. */
    validateSample: number(env, 'BENCH_VALIDATE_SAMPLE', 20, { min: 1, max: 1000 }),
    /** Access tokens fetched before the guard scenario and sent round-robin. */
    tokenPool: number(env, 'BENCH_TOKEN_POOL', 64, { min: 1, max: 10_000 }),
    scenarios: SCENARIOS.filter((s) => ids.includes(s.id)),
    peer: flag(env, 'BENCH_PEER', true),
    /** Run the token endpoint scenarios against bench/floor-server.mjs too (the floor). */
    floor: flag(env, 'BENCH_FLOOR', true),
    pin,
    serverCpus: cpuList(env, 'BENCH_SERVER_CPUS', '0'),
    loadCpus: cpuList(env, 'BENCH_LOAD_CPUS', cpuCount >= 2 ? '1' : '0'),
    /** `WORKERS` of the reference server (its cluster mode, when it has one). */
    workers: (env.BENCH_WORKERS ?? '').trim() || undefined,
    databaseUrl,
    redisUrl,
    logLevel: (env.BENCH_LOG_LEVEL ?? '').trim() || undefined,
    /** Write V8 CPU profiles of both servers (`node --cpu-prof`) into this directory. */
    profileDir: (env.BENCH_PROFILE_DIR ?? '').trim() || undefined,
    /** Extra environment of the reference server (experiments: `UV_THREADPOOL_SIZE=1`, …). */
    serverEnv,
    /** Another build of the reference server to measure (default dist/src/main.js). */
    serverMain: (env.BENCH_SERVER_MAIN ?? '').trim() || undefined,
    /** Where the results JSON goes (default bench/results/latest.json). */
    output: (env.BENCH_OUTPUT ?? '').trim() || undefined,
    /** Skip writing docs/benchmarks.md (results JSON is always written). */
    writeDocs: flag(env, 'BENCH_WRITE_DOCS', true),
  });
}
