/**
 * The crypto limit (issue 8): how many cryptographic operations of one request one thread
 * completes per second, through the same library calls the server makes.
 *
 * - Token endpoint scenarios: verify one client assertion + sign one access token — the built
 *   library's `verifyJwsSignature` with the key from `publicKeyObject` / `hmacKeyObject`
 *   (`core/crypto/jws.ts`, what `verifyClientAssertion` calls), then `signAccessToken`
 *   (`core/tokens/access-token.ts`, what the token endpoint calls).
 * - The resource-server guard scenario (`kind: 'resource'`): verify one access token —
 *   `compactVerify(token, key, {algorithms: [alg]})` with the server's public key imported as
 *   `importVerificationKey` does, as `verifyJwtAccessToken`
 *   (`core/access-token/verify-access-token.ts`) does; the tokens are signed beforehand with the
 *   server key, not measured.
 *
 * Run as a child process pinned to the server's CPU (`measureCryptoLimits`), so the figure is
 * measured on the same core the server gets. Two figures per scenario, each the best of three
 * rounds: `sequential` (one operation at a time, the definition the ratios use) and `pipelined`
 * (32 in flight, as a loaded server sees them; WebCrypto jobs run on libuv's pool, pinned to
 * the same core).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

/** An RFC 9068 access token for `clientId`, signed as `signAccessToken` does. */
function signAccessToken(job, clientId, signingKey) {
  const server = job.signingJwk;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: clientId })
    .setProtectedHeader({ alg: server.alg, kid: server.kid, typ: 'at+jwt' })
    .setIssuer(job.issuer)
    .setSubject(clientId)
    .setAudience(job.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(signingKey);
}

/** One token endpoint request's cryptography: verify the assertion, sign the access token. */
async function tokenEndpointOperation(job, scenario, signingKey) {
  const lib = await import(
    pathToFileURL(
      job.libraryEntry ??
        join(dirname(fileURLToPath(import.meta.url)), '../../dist/libs/client-auth/src/index.js'),
    ).href
  );
  const { assertions, alg } = scenario;
  const key =
    alg === 'HS256'
      ? lib.hmacKeyObject({}, scenario.secret, alg)
      : lib.publicKeyObject(publicMembers(scenario.publicJwk), alg);
  const parts = assertions.map((assertion) => {
    const dot = assertion.lastIndexOf('.');
    return [
      Buffer.from(assertion.slice(0, dot), 'ascii'),
      Buffer.from(assertion.slice(dot + 1), 'base64url'),
    ];
  });
  const serverKey = { alg: job.signingJwk.alg, kid: job.signingJwk.kid, privateKey: signingKey };
  let i = 0;
  return async () => {
    const [input, signature] = parts[i++ % parts.length];
    if (!lib.verifyJwsSignature(alg, key, input, signature)) throw new Error('bad assertion');
    await lib.signAccessToken(serverKey, {
      issuer: job.issuer,
      clientId: scenario.clientId,
      subject: scenario.clientId,
      audience: job.issuer,
      ttlSeconds: 300,
    });
  };
}

/** One guarded request's cryptography: verify the access token with the server's public key. */
async function guardOperation(job, scenario, signingKey) {
  const alg = job.signingJwk.alg;
  const key = await importJWK(publicMembers(job.signingJwk), alg, { extractable: false });
  const tokens = await Promise.all(
    Array.from({ length: 256 }, () => signAccessToken(job, scenario.clientId, signingKey)),
  );
  let i = 0;
  return () => compactVerify(tokens[i++ % tokens.length], key, { algorithms: [alg] });
}

async function measure(job, scenario, signingKey) {
  const once =
    scenario.kind === 'resource'
      ? await guardOperation(job, scenario, signingKey)
      : await tokenEndpointOperation(job, scenario, signingKey);
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
 *   scenarios: `{id, alg, clientId, publicJwk | secret, assertions: string[]}` for the token
 *   endpoint, `{id, kind: 'resource', clientId}` for the guard (tokens signed with `signingJwk`)
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
