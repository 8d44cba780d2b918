/**
 * Checks on what the servers answered: sampled token responses must carry a real RFC 9068
 * access token for the right client, and used assertions sent again must all be refused.
 */
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

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
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      const text = await res.text();
      if (res.ok) {
        counts.accepted++;
        continue;
      }
      let description = '';
      try {
        description = JSON.parse(text).error_description ?? '';
      } catch {
        // not JSON: counted as another refusal
      }
      if (replayPattern?.test(description)) counts.replayRejected++;
      else counts.otherRejected++;
      const key = `${res.status} ${description}`.slice(0, 120);
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ...counts, reasons };
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
