/**
 * Checks on what the servers answered: sampled token responses must carry a real RFC 9068
 * access token for the right client, used assertions sent again must all be refused, sampled
 * answers of the protected route must name the client, and tokens the guard must not accept
 * (missing, altered, foreign, expired, for another audience) must all be refused.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';

/**
 * Validates sampled token responses (RFC 6749 §5.1 body; RFC 9068 token: `typ` `at+jwt`, a
 * signature by the server key, `iss`, `client_id`, `exp`). Resolves a list of problems (empty
 * when all are fine).
 */
export async function validateTokenResponses(bodies, { issuer, clientId, publicJwk }) {
  const problems = [];
  const key = await importJWK(publicJwk, publicJwk.alg);
  for (const text of bodies) {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`response is not JSON: ${String(text).slice(0, 80)}`);
      continue;
    }
    if (typeof body.access_token !== 'string') {
      problems.push('response has no access_token');
      continue;
    }
    if (String(body.token_type).toLowerCase() !== 'bearer') {
      problems.push(`token_type is ${body.token_type}`);
    }
    try {
      const header = decodeProtectedHeader(body.access_token);
      if (String(header.typ).toLowerCase() !== 'at+jwt') problems.push(`typ is ${header.typ}`);
      const { payload } = await jwtVerify(body.access_token, key, { issuer });
      if (payload.client_id !== clientId) {
        problems.push(`client_id is ${payload.client_id}, expected ${clientId}`);
      }
      if (typeof payload.exp !== 'number') problems.push('the access token has no exp');
    } catch (error) {
      problems.push(`access token rejected: ${error.code ?? error.message}`);
    }
  }
  return problems;
}

/**
 * Sends `bodies` (already used once) again, a few at a time, and counts the outcomes:
 * `accepted` (2xx, must be 0), `replayRejected` (refused, and the answer names the replay where
 * the server says so), `otherRejected`.
 */
export async function replayUsedAssertions(url, bodies, { concurrency = 4, replayPattern } = {}) {
  const counts = { sent: bodies.length, accepted: 0, replayRejected: 0, otherRejected: 0 };
  const reasons = {};
  await postForms(url, bodies, concurrency, (status, text) => {
    if (status >= 200 && status < 300) {
      counts.accepted++;
      return;
    }
    let description = '';
    try {
      description = JSON.parse(text).error_description ?? '';
    } catch {
      // not JSON: counted as another refusal
    }
    if (replayPattern?.test(description)) counts.replayRejected++;
    else counts.otherRejected++;
    const key = `${status} ${description}`.slice(0, 120);
    reasons[key] = (reasons[key] ?? 0) + 1;
  });
  return { ...counts, reasons };
}

/**
 * POSTs each of `bodies` (form-encoded) to `url`, `concurrency` at a time, handing each answer's
 * status and text to `onAnswer` (which may throw to stop).
 */
async function postForms(url, bodies, concurrency, onAnswer) {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      onAnswer(res.status, await res.text());
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Picks `n` bodies spread over the part of the pool that was certainly sent (the last
 * `connections × 2` taken may have been built but never sent when the run stopped).
 */
export function usedSample(pool, n, connections) {
  const used = Math.max(0, pool.next - connections * 2);
  if (used === 0 || n === 0) return [];
  const step = Math.max(1, Math.floor(used / n));
  const picked = [];
  for (let i = 0; i < used && picked.length < n; i += step) picked.push(pool.bodies[i]);
  return picked;
}

/**
 * Obtains access tokens from the token endpoint at `url` (`client_credentials`, one token
 * request body with a fresh assertion each), `concurrency` at a time. Resolves the raw response
 * bodies; throws on the first non-2xx (the guard scenario cannot run without its tokens).
 */
export async function fetchAccessTokens(url, bodies, { concurrency = 4 } = {}) {
  const responses = [];
  await postForms(url, bodies, concurrency, (status, text) => {
    if (status < 200 || status >= 300) {
      throw new Error(`token request answered ${status}: ${text.slice(0, 200)}`);
    }
    responses.push(text);
  });
  return responses;
}

/** The earliest `exp` (epoch seconds) of `tokens`. */
export function earliestExpiry(tokens) {
  return Math.min(...tokens.map((token) => Number(decodeJwt(token).exp)));
}

/**
 * Validates sampled answers of `GET /api/whoami` (the reference server's protected route):
 * JSON naming the token's client. Resolves a list of problems (empty when all are fine).
 */
export function validateWhoamiResponses(bodies, { clientId }) {
  const problems = [];
  for (const text of bodies) {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      problems.push(`whoami answer is not JSON: ${String(text).slice(0, 80)}`);
      continue;
    }
    if (body.client_id !== clientId) {
      problems.push(`whoami names client ${body.client_id}, expected ${clientId}`);
    }
  }
  return problems;
}

/** `token` with one character of its signature changed (a valid base64url string still). */
function alterSignature(token) {
  const dot = token.lastIndexOf('.');
  const at = dot + 1 + Math.floor((token.length - dot - 1) / 2);
  const swapped = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + swapped + token.slice(at + 1);
}

/**
 * Sends `repeat` requests of each kind the guard must refuse with 401 `invalid_token` and a
 * `WWW-Authenticate: Bearer` challenge (RFC 6750 §3.1; SPEC S8): no token, a valid token with an
 * altered signature, a token signed by a key the issuer does not have (under the issuer's
 * `kid`), an expired token and a token for another audience (both signed with the real server
 * key). Resolves `{ sent, accepted, refused, other, byKind }`; `accepted` must be 0.
 */
export async function checkGuardRefusals(
  url,
  { issuer, clientId, signingJwk, validToken, repeat = 5 },
) {
  const serverKey = await importJWK(signingJwk, signingJwk.alg);
  const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const sign = (key, claims) =>
    new SignJWT({ client_id: clientId, ...claims })
      .setProtectedHeader({ alg: signingJwk.alg, kid: signingJwk.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(key);
  const kinds = {
    missing: undefined,
    'altered signature': alterSignature(validToken),
    'foreign key': await sign(foreign, { aud: issuer, iat: now, exp: now + 300 }),
    expired: await sign(serverKey, { aud: issuer, iat: now - 900, exp: now - 600 }),
    'other audience': await sign(serverKey, {
      aud: 'https://other.bench.test',
      iat: now,
      exp: now + 300,
    }),
  };
  const outcome = { sent: 0, accepted: 0, refused: 0, other: 0, byKind: {} };
  for (const [kind, token] of Object.entries(kinds)) {
    const statuses = {};
    for (let i = 0; i < repeat; i++) {
      const res = await fetch(url, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
      await res.arrayBuffer();
      outcome.sent++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const challenge = res.headers.get('www-authenticate') ?? '';
      if (res.ok) outcome.accepted++;
      else if (res.status === 401 && /^Bearer\b/.test(challenge)) outcome.refused++;
      else outcome.other++;
    }
    outcome.byKind[kind] = statuses;
  }
  return outcome;
}
