/**
 * The crypto limit (issue 8): how many "verify one client assertion + sign one access token"
 * operations one thread completes per second, through the same jose calls the server makes:
 * `compactVerify(assertion, key, {algorithms: [alg]})` with the key imported as
 * `core/crypto/key-import.ts` does, then `new SignJWT(…).setProtectedHeader({alg, kid, typ:
 * 'at+jwt'})…sign(key)` as `signAccessToken` (`core/tokens/access-token.ts`) does.
 *
 * Run as a child process pinned to the server's CPU (`measureCryptoLimits`), so the figure is
 * measured on the same core the server gets. Two figures per scenario, each the best of three
 * rounds: `sequential` (one operation at a time, the definition the ratios use) and `pipelined`
 * (32 in flight, as a loaded server sees them; WebCrypto jobs run on libuv's pool, pinned to
 * the same core).
 */
import { spawn } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { compactVerify, importJWK, SignJWT } from 'jose';
import { expandCpuList, pinnedCommand, trackCoreBusy } from './processes.mjs';

/** The public members only, as `core/crypto/key-import.ts` imports them. */
function publicMembers(jwk) {
  switch (jwk.kty) {
    case 'RSA':
      return { kty: 'RSA', n: jwk.n, e: jwk.e };
    case 'EC':
      return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
    default:
      return { kty: 'OKP', crv: jwk.crv, x: jwk.x };
  }
}

async function verificationKey(scenario) {
  if (scenario.alg === 'HS256') {
    return webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(scenario.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
  }
  return importJWK(publicMembers(scenario.publicJwk), scenario.alg, { extractable: false });
}

async function measure(job, scenario, signingKey) {
  const key = await verificationKey(scenario);
  const { assertions } = scenario;
  const alg = scenario.alg;
  const server = job.signingJwk;
  let i = 0;
  const once = async () => {
    const assertion = assertions[i++ % assertions.length];
    await compactVerify(assertion, key, { algorithms: [alg] });
    const now = Math.floor(Date.now() / 1000);
    await new SignJWT({ client_id: scenario.clientId })
      .setProtectedHeader({ alg: server.alg, kid: server.kid, typ: 'at+jwt' })
      .setIssuer(job.issuer)
      .setSubject(scenario.clientId)
      .setAudience(job.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(signingKey);
  };
  const run = async (seconds, inFlight) => {
    let done = 0;
    const end = performance.now() + seconds * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          await once();
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  };
  await run(Math.min(1, job.seconds / 2), 1); // warm-up: JIT and key caches
  // Best of three rounds: on a shared machine another process can take the CPU for a while,
  // and a limit is what the CPU can do, not what it did while disturbed.
  let sequential = 0;
  let pipelined = 0;
  for (let round = 0; round < 3; round++) {
    sequential = Math.max(sequential, await run(job.seconds / 3, 1));
    pipelined = Math.max(pipelined, await run(job.seconds / 6, 32));
  }
  return { sequential: Math.round(sequential), pipelined: Math.round(pipelined) };
}

async function child() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const signingKey = await importJWK(job.signingJwk, job.signingJwk.alg);
  const results = {};
  for (const scenario of job.scenarios)
    results[scenario.id] = await measure(job, scenario, signingKey);
  const usage = process.cpuUsage();
  process.stdout.write(JSON.stringify({ results, cpuSeconds: (usage.user + usage.system) / 1e6 }));
}

/**
 * Measures every scenario's crypto limit in a child process pinned to `cpus`.
 * @param {{ issuer: string, signingJwk: object, seconds: number, scenarios: object[] }} job
 *   scenarios: `{id, alg, clientId, publicJwk | secret, assertions: string[]}`
 * @returns {Promise<Record<string, {sequential: number, pipelined: number, othersCpuPercent?: number}>>}
 *   `othersCpuPercent`: share of those CPUs other processes used meanwhile (noise).
 */
export function measureCryptoLimits(job, cpus) {
  const [command, args] = pinnedCommand(cpus, [fileURLToPath(import.meta.url)]);
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const startedAt = performance.now();
    const core = trackCoreBusy(cpus);
    const out = [];
    proc.stdout.on('data', (chunk) => out.push(chunk));
    proc.once('error', reject);
    proc.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`crypto-limit measurement exited with ${code}`));
      const busy = core.stop();
      try {
        const { results, cpuSeconds } = JSON.parse(Buffer.concat(out).toString('utf8'));
        const own = (cpuSeconds / ((performance.now() - startedAt) / 1000)) * 100;
        const cores = cpus ? expandCpuList(cpus).length : 1;
        const others = busy === undefined ? undefined : Math.max(0, Math.round(busy - own / cores));
        for (const result of Object.values(results)) result.othersCpuPercent = others;
        resolve(results);
      } catch (error) {
        reject(error);
      }
    });
    proc.stdin.end(JSON.stringify(job));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  child().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
