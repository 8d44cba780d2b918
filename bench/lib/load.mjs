/**
 * Drives a route with autocannon for a fixed time at fixed concurrency, keeping a sample of the
 * responses for validation: the token endpoint, every request taking the next pre-generated
 * body from a pool (one `jti` each, used once), or a protected route, every request carrying
 * one of a list of access tokens in turn (`Authorization: Bearer`, RFC 6750 §2.1).
 */
import autocannon from 'autocannon';

/** A pool of token request bodies consumed in order, shared by the warm-up and the measurement. */
export class RequestPool {
  /** @param {string[]} bodies */
  constructor(bodies) {
    this.bodies = bodies;
    this.next = 0;
  }

  /** The next unused body, or undefined when the pool is exhausted. */
  take() {
    return this.next < this.bodies.length ? this.bodies[this.next++] : undefined;
  }

  get remaining() {
    return this.bodies.length - this.next;
  }
}

/**
 * Runs autocannon against `url` + `path` for `seconds`: `POST`s drawing bodies from `pool`, or,
 * with `bearerTokens`, `GET`s carrying those tokens round-robin (reusable: no pool to exhaust).
 * Resolves `{ result, samples, failures, statuses, exhausted }`: autocannon's result, up to
 * `sampleSize` bodies of 2xx responses (a uniform sample of the run), the first non-2xx answers, the
 * count per status, and whether the pool ran out (autocannon is then stopped early and the run
 * is flagged).
 */
export function runLoad({
  url,
  path,
  pool,
  bearerTokens,
  seconds,
  connections,
  sampleSize = 0,
  fallbackPath,
}) {
  return new Promise((resolve, reject) => {
    const samples = [];
    const failures = [];
    const statuses = {};
    let exhausted = false;
    let ok = 0;
    let instance;
    const body = () => {
      const next = pool.take();
      if (next !== undefined) return next;
      if (!exhausted) {
        exhausted = true;
        setImmediate(() => instance?.stop());
      }
      return undefined;
    };
    const onResponse = (status, responseBody) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        if (exhausted) return; // possibly a fallback GET, not a token response
        // Reservoir sampling (Algorithm R): a uniform sample over the whole run.
        ok++;
        if (samples.length < sampleSize) samples.push(responseBody);
        else if (sampleSize > 0) {
          const slot = Math.floor(Math.random() * ok);
          if (slot < sampleSize) samples[slot] = responseBody;
        }
      } else if (failures.length < 3) {
        failures.push(`${status} ${String(responseBody).slice(0, 300)}`);
      }
    };
    let nextToken = 0;
    const request = bearerTokens
      ? {
          method: 'GET',
          path,
          setupRequest: (req) => ({
            ...req,
            headers: {
              ...req.headers,
              authorization: `Bearer ${bearerTokens[nextToken++ % bearerTokens.length]}`,
            },
          }),
          onResponse,
        }
      : {
          method: 'POST',
          path,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          setupRequest(req) {
            const next = body();
            // autocannon cannot skip a request: once the pool is empty, a harmless GET is sent
            // while the run stops (the run is flagged as exhausted).
            return next === undefined
              ? { ...req, method: 'GET', path: fallbackPath, body: undefined, headers: {} }
              : { ...req, body: next };
          },
          onResponse,
        };
    instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        pipelining: 1,
        timeout: 10,
        requests: [request],
      },
      (error, result) =>
        error ? reject(error) : resolve({ result, samples, failures, statuses, exhausted }),
    );
  });
}

/** The figures of one measurement. */
export function summarize({ result, statuses, failures, exhausted }) {
  const seconds = result.duration;
  const ok = result['2xx'];
  return {
    requestsPerSecond: Math.round(ok / seconds),
    requests: result.totalCompletedRequests,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    seconds,
    ...(failures.length ? { failureSamples: failures } : {}),
    ...(exhausted ? { poolExhausted: true } : {}),
  };
}
