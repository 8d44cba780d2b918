#!/usr/bin/env node
/**
 * `npm run bench` (issue 8): the token endpoint of the reference server under load, next to the
 * crypto limit of the machine, the `oidc-provider` peer doing the same work, and the floor (a
 * bare `node:http` server doing only that cryptography, bench/floor-server.mjs).
 *
 * 1. Builds one client per scenario (keys generated here) and seeds them into a fresh database
 *    of the reference server (SQLite, or PostgreSQL with BENCH_DATABASE_URL) through the built
 *    library's registry; the peer gets the same clients as RFC 7591 metadata.
 * 2. Measures the crypto limit per scenario: single-thread verify(assertion) + sign(access
 *    token) operations per second through the built library's calls, on the server's CPU.
 * 3. Starts the servers (reference, peer, floor) pinned to the server CPU (`taskset`), pins
 *    itself (the load generator) to another CPU, and per scenario drives `POST /oauth/token`
 *    (peer: `/token`) of each in turn with autocannon: a warm-up, then a fixed time at fixed
 *    concurrency, every request with a fresh pre-generated assertion (each server reads the
 *    same list from its own start). Peak RSS comes from `/proc/<pid>/status`.
 * 4. Validates a sample of the access tokens, then re-sends used assertions (after all the
 *    load) and requires that none is accepted (not against the floor, which keeps no replay
 *    store by design).
 * 5. The resource-server guard scenario (SPEC S8) drives `GET /api/whoami` instead: a pool of
 *    access tokens is fetched up front (`client_credentials`), then sent round-robin as
 *    `Authorization: Bearer` at the same concurrency; its crypto limit is one ES256
 *    verification, and the peer has no equivalent (reported as n/a with the reason). Afterwards,
 *    tokens the guard must refuse (missing, altered, foreign, expired, other audience) are sent
 *    and none may be accepted.
 * 6. Prints the figures, writes `bench/results/latest.json` and the table of
 *    `docs/benchmarks.md`; exits 1 on any non-2xx, invalid token, accepted replay or accepted
 *    bad token.
 *
 * Settings are environment variables, listed in docs/benchmarks.md (BENCH_DURATION,
 * BENCH_CONNECTIONS, BENCH_DATABASE_URL, …).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertionOfBody,
  generateClientKey,
  generateRequestBodies,
  publicJwkOf,
} from './lib/assertions.mjs';
import { loadBenchConfig } from './lib/config.mjs';
import { measureCryptoLimits } from './lib/crypto-limit.mjs';
import { RequestPool, runLoad, summarize } from './lib/load.mjs';
import {
  canPin,
  expandCpuList,
  freePort,
  pinSelf,
  startNode,
  stopProcess,
  trackCpu,
  trackPeakRss,
  waitReady,
} from './lib/processes.mjs';
import { printResults, writeMarkdown } from './lib/report.mjs';
import { createDatabase, importBuiltLibrary, seedClients } from './lib/seed.mjs';
import {
  checkGuardRefusals,
  earliestExpiry,
  fetchAccessTokens,
  replayUsedAssertions,
  usedSample,
  validateTokenResponses,
  validateWhoamiResponses,
} from './lib/validate.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The issuer both servers are configured with, so one assertion (`aud`) suits both. */
const ISSUER = 'https://as.bench.test';
/** The reference server's answer to a replayed assertion (SPEC S2.7, reason `jti_replayed`). */
const REPLAY_DESCRIPTION = /already used/i;
/** Access token lifetime: the reference server's `ACCESS_TOKEN_TTL` default, given to the floor. */
const ACCESS_TOKEN_TTL_SECONDS = 300;
/** Why the floor has no figure for the guard scenario. */
const FLOOR_NOT_APPLICABLE =
  'the floor is a token endpoint only (bench/floor-server.mjs); the crypto limit is the guard yardstick';

const log = (line = '') => process.stdout.write(`${line}\n`);

async function main() {
  const config = loadBenchConfig();
  const serverMain = config.serverMain
    ? resolve(config.serverMain)
    : join(ROOT, 'dist/src/main.js');
  if (!existsSync(serverMain)) {
    throw new Error(`${serverMain} is missing: run \`npm run build\` first (npm run bench does)`);
  }
  // The library built with that server: the crypto limit, the floor and the seeding use it.
  const libraryEntry = resolve(dirname(serverMain), '../libs/client-auth/src/index.js');
  const library = await importBuiltLibrary(libraryEntry);
  const pinning = config.pin && canPin();
  const allCpus = `0-${cpus().length - 1}`;
  const serverCpus = pinning ? config.serverCpus : undefined;
  const loadCpus = pinning ? config.loadCpus : undefined;
  const serverCpuCount = pinning ? expandCpuList(config.serverCpus).length : cpus().length;
  const runnable = config.scenarios.filter((s) => !s.skip);
  const workDir = mkdtempSync(join(tmpdir(), 'client-auth-bench-'));
  const cleanups = [() => rmSync(workDir, { recursive: true, force: true })];
  const failures = [];

  log(`nestjs-client-auth benchmark — ${new Date().toISOString()}`);
  log(
    `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, Node ${process.version}; ` +
      (pinning
        ? `servers on CPU ${serverCpus}, load generator on CPU ${loadCpus}`
        : 'no CPU pinning (taskset unavailable, BENCH_PIN=0 or a single CPU)'),
  );
  log(
    `${config.duration} s per run after ${config.warmup} s warm-up, ${config.connections} connections, ` +
      `${config.databaseUrl ? 'PostgreSQL' : 'SQLite'} registry and replay store`,
  );

  try {
    // ---- keys, clients and the JWKS endpoint of the jwks_uri scenario
    const signingJwk = { ...generateClientKey('ES256').privateJwk, kid: 'bench-server-key' };
    const serverPublicJwk = publicJwkOf(signingJwk);
    const clients = runnable.map((scenario) => ({
      scenario,
      clientId: `bench-${scenario.id}`,
      key: scenario.keys === 'secret' ? undefined : generateClientKey(scenario.alg),
    }));
    const jwks = await startJwksServer(clients);
    cleanups.push(() => jwks.close());

    // ---- the reference server's database, seeded before it starts
    const secretEncryptionKey = randomBytes(32).toString('hex');
    const dataDir = join(workDir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const database = await createDatabase({ dataDir, adminUrl: config.databaseUrl });
    cleanups.push(() => database.drop());
    const secrets = await seedClients({
      library,
      database,
      secretEncryptionKey,
      clients: clients.map(({ scenario, clientId, key }) => ({
        clientId,
        tokenEndpointAuthMethod: scenario.method,
        tokenEndpointAuthSigningAlg: scenario.alg,
        grantTypes: ['client_credentials'],
        ...(scenario.keys === 'jwks' ? { jwks: { keys: [key.publicJwk] } } : {}),
        ...(scenario.keys === 'jwks_uri' ? { jwksUri: jwks.uriOf(clientId) } : {}),
      })),
    });
    for (const client of clients) client.secret = secrets[client.clientId];

    const signerOf = (client) => ({
      alg: client.scenario.alg,
      kid: client.key?.kid,
      privateJwk: client.key?.privateJwk,
      secret: client.secret,
      clientId: client.clientId,
      audience: ISSUER,
    });

    // ---- crypto limit: measured per scenario on the server CPU just before that scenario's
    // runs, so each ratio compares figures taken minutes apart at most (a VM's speed drifts).
    const limitJob = {
      libraryEntry,
      issuer: ISSUER,
      signingJwk,
      seconds: config.cryptoSeconds,
      scenarios: await Promise.all(
        clients.map(async (client) =>
          client.scenario.kind === 'resource'
            ? { id: client.scenario.id, kind: 'resource', clientId: client.clientId }
            : {
                id: client.scenario.id,
                alg: client.scenario.alg,
                clientId: client.clientId,
                publicJwk: client.key?.publicJwk,
                secret: client.secret,
                assertions: (await generateRequestBodies(signerOf(client), 256)).map(
                  assertionOfBody,
                ),
              },
        ),
      ),
    };
    async function measureLimit(id) {
      const job = { ...limitJob, scenarios: limitJob.scenarios.filter((s) => s.id === id) };
      const limit = (await measureCryptoLimits(job, serverCpus))[id];
      log(
        `  crypto limit (verify + sign; guard: verify; one thread): ${limit.sequential} ops/s ` +
          `(pipelined ${limit.pipelined}; others used ${limit.othersCpuPercent ?? '?'}% of the CPU)`,
      );
      return limit;
    }

    // ---- servers
    const servers = [];
    cleanups.unshift(() => Promise.all(servers.map((s) => stopProcess(s.handle))));
    servers.push(await startReferenceServer());
    // The peer and the floor serve the token endpoint scenarios only (see the guard scenario).
    const tokenClients = clients.filter((client) => client.scenario.kind !== 'resource');
    if (config.peer && tokenClients.length > 0) servers.push(await startPeer());
    if (config.floor && tokenClients.length > 0) servers.push(await startFloor());
    log(`\nservers ready: ${servers.map((s) => `${s.name} (pid ${s.handle.pid})`).join(', ')}`);

    async function startReferenceServer() {
      const port = await freePort();
      const profile = config.profileDir ? profileArgs('server') : [];
      const handle = startNode({
        name: 'nestjs-client-auth',
        script: serverMain,
        nodeArgs: profile.length
          ? [...profile, '--import', join(ROOT, 'bench/lib/exit-on-sigterm.mjs')]
          : [],
        cwd: ROOT,
        cpus: serverCpus,
        env: serverEnv({
          PORT: String(port),
          ISSUER,
          DATA_DIR: dataDir,
          SIGNING_KEYS: JSON.stringify({ keys: [signingJwk] }),
          SECRET_ENCRYPTION_KEY: secretEncryptionKey,
          // SPEC S1: the sanctioned exemption for a jwks_uri on a loopback address.
          JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
          ...database.env,
          ...(config.redisUrl ? { REDIS_URL: config.redisUrl } : {}),
          ...(config.workers ? { WORKERS: config.workers } : {}),
          ...(config.logLevel ? { LOG_LEVEL: config.logLevel } : {}),
          ...config.serverEnv,
        }),
      });
      const base = `http://127.0.0.1:${port}`;
      await readyOrStop(handle, `${base}/.well-known/oauth-authorization-server`);
      return {
        name: 'nestjs-client-auth',
        key: 'server',
        handle,
        base,
        tokenPath: '/oauth/token',
        fallbackPath: '/.well-known/oauth-authorization-server',
        replayPattern: REPLAY_DESCRIPTION,
        replayCheck: true,
      };
    }

    /**
     * Starts `script` (a server of the benchmark's own, given its settings as a JSON file:
     * `{port, ...settings}`) pinned like the reference server, and waits for `readyPath`.
     */
    async function startScriptServer({ name, key, script, settings, readyPath, ...server }) {
      const port = await freePort();
      const file = join(workDir, `${key}.json`);
      writeFileSync(file, JSON.stringify({ port, ...settings }), { mode: 0o600 });
      const handle = startNode({
        name,
        script: join(ROOT, script),
        nodeArgs: config.profileDir ? profileArgs(key) : [],
        args: [file],
        cwd: ROOT,
        cpus: serverCpus,
        env: serverEnv({}),
      });
      const base = `http://127.0.0.1:${port}`;
      await readyOrStop(handle, `${base}${readyPath}`);
      return { name, key, handle, base, ...server };
    }

    function startPeer() {
      return startScriptServer({
        name: 'oidc-provider',
        key: 'peer',
        script: 'bench/peer-server.mjs',
        settings: {
          issuer: ISSUER,
          signingJwk,
          clients: tokenClients.map((client) => ({
            client_id: client.clientId,
            token_endpoint_auth_method: client.scenario.method,
            token_endpoint_auth_signing_alg: client.scenario.alg,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            ...(client.scenario.keys === 'jwks' ? { jwks: { keys: [client.key.publicJwk] } } : {}),
            ...(client.scenario.keys === 'jwks_uri'
              ? { jwks_uri: jwks.uriOf(client.clientId) }
              : {}),
            ...(client.secret ? { client_secret: client.secret } : {}),
          })),
        },
        readyPath: '/.well-known/openid-configuration',
        tokenPath: '/token',
        fallbackPath: '/.well-known/openid-configuration',
        replayCheck: true,
      });
    }

    /**
     * The floor (bench/floor-server.mjs): the same clients' keys and the same signing key,
     * handed over at start-up (no registry, no JWKS fetch). Its tokens are validated like the
     * others; its replays are not checked: it keeps no replay store on purpose (it is the
     * ceiling of HTTP + cryptography, not an OAuth server), so it would accept every one.
     */
    function startFloor() {
      return startScriptServer({
        name: 'floor (node:http)',
        key: 'floor',
        script: 'bench/floor-server.mjs',
        settings: {
          libraryEntry,
          issuer: ISSUER,
          signingJwk,
          // The reference server's lifetime (its default, or the one BENCH_SERVER_ENV sets).
          accessTokenTtlSeconds: Number(
            config.serverEnv.ACCESS_TOKEN_TTL ?? ACCESS_TOKEN_TTL_SECONDS,
          ),
          clients: tokenClients.map((client) => ({
            clientId: client.clientId,
            alg: client.scenario.alg,
            ...(client.key ? { publicJwk: client.key.publicJwk } : { secret: client.secret }),
          })),
        },
        readyPath: '/ready',
        tokenPath: '/oauth/token',
        fallbackPath: '/ready',
        replayCheck: false,
      });
    }

    function profileArgs(name) {
      mkdirSync(config.profileDir, { recursive: true });
      return [
        '--cpu-prof',
        `--cpu-prof-dir=${resolve(config.profileDir)}`,
        `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`,
      ];
    }

    // ---- scenarios
    const results = [];
    /** Measured windows per server (CLOCK_MONOTONIC µs, the clock of V8's CPU profiles). */
    const profileWindows = {};

    /**
     * One server's warm-up, then its measured run with peak RSS, CPU use and the profile window
     * recorded; `common` holds runLoad's target, request source and connections.
     */
    async function measuredRun(server, scenarioId, common) {
      const warm =
        config.warmup > 0 ? await runLoad({ ...common, seconds: config.warmup }) : undefined;
      const rss = trackPeakRss(server.handle.pid);
      const cpu = trackCpu(server.handle.pid, serverCpus);
      const windowStart = monotonicMicros();
      const run = await runLoad({
        ...common,
        seconds: config.duration,
        sampleSize: config.validateSample,
      });
      (profileWindows[server.key] ??= []).push([windowStart, monotonicMicros(), scenarioId]);
      const cpuUse = cpu.stop();
      const peakRssMiB = rss.stop();
      const warmupNon2xx = warm
        ? warm.result.non2xx + warm.result.errors + warm.result.timeouts
        : 0;
      return { run, figures: summarize(run), peakRssMiB, cpuUse, warmupNon2xx };
    }

    for (const scenario of config.scenarios) {
      if (scenario.skip) {
        log(`\n${scenario.label}: skipped — ${scenario.skip}`);
        results.push({ id: scenario.id, label: scenario.label, skipped: scenario.skip });
        continue;
      }
      const client = clients.find((c) => c.scenario === scenario);
      log(`\n${scenario.label}:`);
      const limit = await measureLimit(scenario.id);
      if (scenario.kind === 'resource') {
        results.push(await runGuardScenario(scenario, client, limit));
        continue;
      }
      const size =
        Math.ceil(
          Math.max(limit.sequential, limit.pipelined) *
            (config.warmup + config.duration) *
            config.poolFactor *
            serverCpuCount,
        ) +
        config.connections * 4;
      await pinSelf(pinning ? allCpus : undefined);
      const started = Date.now();
      const bodies = await generateRequestBodies(signerOf(client), size);
      log(`  ${size} assertions signed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await pinSelf(loadCpus);

      const entry = {
        id: scenario.id,
        label: scenario.label,
        cryptoLimit: limit,
        clientId: client.clientId,
      };
      for (const server of servers) {
        const pool = new RequestPool(bodies);
        const url = server.base;
        const common = {
          url,
          path: server.tokenPath,
          pool,
          connections: config.connections,
          fallbackPath: server.fallbackPath,
        };
        const { run, figures, peakRssMiB, cpuUse, warmupNon2xx } = await measuredRun(
          server,
          scenario.id,
          common,
        );
        const problems = await validateTokenResponses(run.samples, {
          issuer: ISSUER,
          clientId: client.clientId,
          publicJwk: serverPublicJwk,
        });
        entry[server.key] = {
          ...figures,
          peakRssMiB,
          ...cpuUse,
          warmupNon2xx,
          validated: run.samples.length,
          validationProblems: problems,
          ratioToCryptoLimit: round(figures.requestsPerSecond / limit.sequential, 3),
        };
        if (server.replayCheck) {
          server.replay ??= [];
          server.replay.push({
            entry,
            bodies: usedSample(pool, config.replaySample, config.connections),
          });
        }
        const bad = figures.non2xx + figures.errors + figures.timeouts + warmupNon2xx;
        if (bad > 0) {
          failures.push(
            `${scenario.id} on ${server.name}: ${bad} non-2xx/errors/timeouts` +
              (figures.failureSamples ? ` (e.g. ${figures.failureSamples[0]})` : ''),
          );
          log(`  ${server.name} output (last lines):\n${indent(server.handle.output(), 4, 5)}`);
        }
        if (problems.length) failures.push(`${scenario.id} on ${server.name}: ${problems[0]}`);
        if (run.samples.length === 0)
          failures.push(`${scenario.id} on ${server.name}: no response to validate`);
        if (figures.poolExhausted) {
          failures.push(
            `${scenario.id} on ${server.name}: the assertion pool ran out; raise BENCH_POOL_FACTOR`,
          );
        }
        log(
          `  ${server.name.padEnd(20)} ${String(figures.requestsPerSecond).padStart(6)} req/s  ` +
            `p50 ${figures.latencyMs.p50} ms  p99 ${figures.latencyMs.p99} ms  non-2xx ${figures.non2xx}  ` +
            `RSS ${peakRssMiB} MiB  ${pct(entry[server.key].ratioToCryptoLimit)} of crypto limit  ` +
            `CPU ${cpuUse.serverCpuPercent ?? '?'}% (others ${cpuUse.othersCpuPercent ?? '?'}%)`,
        );
      }
      if (entry.server && entry.peer) {
        entry.ratioToPeer = round(entry.server.requestsPerSecond / entry.peer.requestsPerSecond, 3);
      }
      if (entry.server && entry.floor) {
        entry.ratioToFloor = round(
          entry.server.requestsPerSecond / entry.floor.requestsPerSecond,
          3,
        );
        log(`  ${'reference / floor'.padEnd(20)} ${pct(entry.ratioToFloor)}`);
      }
      results.push(entry);
    }

    /**
     * The resource-server guard scenario (SPEC S8) on the reference server: access tokens
     * fetched up front with `client_credentials` (fresh assertions, not measured), then
     * `GET scenario.path` with `Authorization: Bearer` (RFC 6750 §2.1), the tokens taken in
     * turn, at the configured concurrency; then requests the guard must refuse.
     */
    async function runGuardScenario(scenario, client, limit) {
      const server = servers.find((s) => s.key === 'server');
      const entry = {
        id: scenario.id,
        label: scenario.label,
        kind: 'resource',
        path: scenario.path,
        cryptoLimit: limit,
        clientId: client.clientId,
        peerNotApplicable: scenario.peer,
        ...(config.floor ? { floorNotApplicable: FLOOR_NOT_APPLICABLE } : {}),
      };
      await pinSelf(pinning ? allCpus : undefined);
      const started = Date.now();
      const bodies = await generateRequestBodies(signerOf(client), config.tokenPool);
      const responses = await fetchAccessTokens(`${server.base}${server.tokenPath}`, bodies);
      const tokenProblems = await validateTokenResponses(responses, {
        issuer: ISSUER,
        clientId: client.clientId,
        publicJwk: serverPublicJwk,
      });
      const tokens = responses.map((text) => JSON.parse(text).access_token);
      entry.tokenPool = tokens.length;
      log(
        `  ${tokens.length} access tokens obtained in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      if (tokenProblems.length) {
        failures.push(`${scenario.id}: token for the pool: ${tokenProblems[0]}`);
        return entry;
      }
      // Every token must outlive the warm-up and the run (plus the clock leeway's worth).
      const needed = Math.floor(Date.now() / 1000) + config.warmup + config.duration + 60;
      if (earliestExpiry(tokens) < needed) {
        failures.push(
          `${scenario.id}: the access tokens expire before the run ends; raise the server's ` +
            'ACCESS_TOKEN_TTL (BENCH_SERVER_ENV) or shorten the run',
        );
        return entry;
      }
      await pinSelf(loadCpus);
      const common = {
        url: server.base,
        path: scenario.path,
        bearerTokens: tokens,
        connections: config.connections,
      };
      const { run, figures, peakRssMiB, cpuUse, warmupNon2xx } = await measuredRun(
        server,
        scenario.id,
        common,
      );
      const problems = validateWhoamiResponses(run.samples, { clientId: client.clientId });
      await pinSelf(pinning ? allCpus : undefined);
      const refusals = await checkGuardRefusals(`${server.base}${scenario.path}`, {
        issuer: ISSUER,
        clientId: client.clientId,
        signingJwk,
        validToken: tokens[0],
      });
      entry.server = {
        ...figures,
        peakRssMiB,
        ...cpuUse,
        warmupNon2xx,
        validated: run.samples.length,
        validationProblems: problems,
        ratioToCryptoLimit: round(figures.requestsPerSecond / limit.sequential, 3),
        refusals,
      };
      const bad = figures.non2xx + figures.errors + figures.timeouts + warmupNon2xx;
      if (bad > 0) {
        failures.push(
          `${scenario.id} on ${server.name}: ${bad} non-2xx/errors/timeouts` +
            (figures.failureSamples ? ` (e.g. ${figures.failureSamples[0]})` : ''),
        );
        log(`  ${server.name} output (last lines):\n${indent(server.handle.output(), 4, 5)}`);
      }
      if (problems.length) failures.push(`${scenario.id} on ${server.name}: ${problems[0]}`);
      if (run.samples.length === 0)
        failures.push(`${scenario.id} on ${server.name}: no response to validate`);
      if (refusals.accepted > 0 || refusals.other > 0) {
        failures.push(
          `${scenario.id} on ${server.name}: of ${refusals.sent} tokens to refuse, ` +
            `${refusals.accepted} accepted and ${refusals.other} not refused with 401 ` +
            `(${JSON.stringify(refusals.byKind)})`,
        );
      }
      log(
        `  ${server.name.padEnd(20)} ${String(figures.requestsPerSecond).padStart(6)} req/s  ` +
          `p50 ${figures.latencyMs.p50} ms  p99 ${figures.latencyMs.p99} ms  non-2xx ${figures.non2xx}  ` +
          `RSS ${peakRssMiB} MiB  ${pct(entry.server.ratioToCryptoLimit)} of crypto limit  ` +
          `CPU ${cpuUse.serverCpuPercent ?? '?'}% (others ${cpuUse.othersCpuPercent ?? '?'}%)`,
      );
      log(
        `  ${'bad tokens'.padEnd(20)} ${refusals.sent} sent, ${refusals.accepted} accepted, ` +
          `${refusals.refused} refused with 401 Bearer`,
      );
      log(`  ${'peer'.padEnd(20)} n/a — ${scenario.peer}`);
      if (config.floor) log(`  ${'floor'.padEnd(20)} n/a — ${FLOOR_NOT_APPLICABLE}`);
      return entry;
    }

    // ---- replays, after all the load (far beyond any in-memory cache of recent jtis)
    await pinSelf(pinning ? allCpus : undefined);
    if (servers.some((server) => server.replay?.length)) log('\nreplaying used assertions…');
    for (const server of servers) {
      for (const { entry, bodies } of server.replay ?? []) {
        const outcome = await replayUsedAssertions(`${server.base}${server.tokenPath}`, bodies, {
          replayPattern: server.replayPattern,
        });
        entry[server.key].replay = outcome;
        log(
          `  ${entry.id.padEnd(22)} ${server.name.padEnd(20)} ${outcome.sent} sent, ${outcome.accepted} accepted` +
            (server.replayPattern ? `, ${outcome.replayRejected} refused as replays` : ''),
        );
        if (outcome.accepted > 0) {
          const message = `${entry.id} on ${server.name}: ${outcome.accepted} replayed assertion(s) accepted`;
          if (server.key === 'server') failures.push(message);
          else log(`  warning: ${message}`);
        }
      }
    }

    const jwksFetches = jwks.fetches();
    await Promise.all(servers.map((s) => stopProcess(s.handle)));
    if (config.profileDir) {
      // bench/profile-summary.mjs reads these to keep only the samples of the measured runs.
      writeFileSync(
        join(resolve(config.profileDir), 'windows.json'),
        `${JSON.stringify(profileWindows, null, 2)}\n`,
      );
      log(`\nCPU profiles in ${config.profileDir}: node bench/profile-summary.mjs <file>`);
    }

    const report = {
      date: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cpus: cpus().length,
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      settings: {
        durationSeconds: config.duration,
        warmupSeconds: config.warmup,
        connections: config.connections,
        database: config.databaseUrl ? 'postgres' : 'sqlite',
        redis: Boolean(config.redisUrl),
        workers: config.workers ?? '1',
        pinned: pinning ? { server: serverCpus, load: loadCpus } : false,
        issuer: ISSUER,
        accessTokenAlg: signingJwk.alg,
        tokenPool: config.tokenPool,
        peer: config.peer ? 'oidc-provider' : false,
        floor: config.floor
          ? 'node:http + the library cryptography (bench/floor-server.mjs)'
          : false,
      },
      jwksUriFetches: jwksFetches,
      scenarios: results,
      ok: failures.length === 0,
      failures,
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const output = config.output ? resolve(config.output) : join(ROOT, 'bench/results/latest.json');
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
    printResults(report, log);
    if (config.writeDocs) {
      const written = await writeMarkdown(report, ROOT);
      log(`\nwrote ${relative(ROOT, output)} and ${written.join(', ')}`);
    } else {
      log(`\nwrote ${relative(ROOT, output)}`);
    }
    if (failures.length) {
      log('\nFAILED:');
      for (const failure of failures) log(`  - ${failure}`);
      process.exitCode = 1;
    }
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`cleanup failed: ${error.message}`);
      }
    }
  }
}

/** Waits until the server answers; stops it when it never does. */
async function readyOrStop(handle, url) {
  try {
    await waitReady(handle, url);
  } catch (error) {
    await stopProcess(handle);
    throw error;
  }
}

/** Serves each `jwks_uri` client's public key set at `/<client_id>/jwks.json`, counting fetches. */
async function startJwksServer(clients) {
  const sets = new Map(
    clients
      .filter((c) => c.scenario.keys === 'jwks_uri')
      .map((c) => [`/${c.clientId}/jwks.json`, JSON.stringify({ keys: [c.key.publicJwk] })]),
  );
  const counts = {};
  const server = createServer((req, res) => {
    const body = sets.get(req.url);
    counts[req.url] = (counts[req.url] ?? 0) + 1;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(body);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    uriOf: (clientId) => `http://127.0.0.1:${port}/${clientId}/jwks.json`,
    fetches: () => ({ ...counts }),
    close: () => new Promise((done) => server.close(done)),
  };
}

/** The environment of a server process: PATH/HOME only, plus its settings. */
function serverEnv(vars) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    ...vars,
  };
}

/** The last `lines` lines of `text`, indented. */
function indent(text, spaces, lines) {
  return text
    .split('\n')
    .slice(-lines)
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}

/** Now on CLOCK_MONOTONIC in µs, the time base of V8 CPU profile timestamps. */
function monotonicMicros() {
  return Number(process.hrtime.bigint() / 1000n);
}

function round(value, digits) {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : null;
}

function pct(ratio) {
  return ratio === null || ratio === undefined ? '–' : `${Math.round(ratio * 100)}%`;
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
