import { compactVerify, type JWK } from 'jose';
import { jwkFitsAlgorithm, PRIVATE_KEY_JWT_ALGORITHMS } from '../assertion/algorithms.js';
import { importVerificationKey } from '../crypto/key-import.js';
import { ClientAuthError, DependencyUnavailableError, type ClientAuthReason } from '../errors.js';
import { JwksFetchError } from '../jwks/jwks-errors.js';
import type { RemoteKeySetProvider } from '../jwks/remote-key-set.interface.js';
import type { FederatedCredential } from '../types.js';
import type { FederatedIssuerDiscovery } from './issuer-discovery.js';
import { subjectMatches } from './subject-pattern.js';

/** Default lifetime cap of federated tokens (projected service-account tokens live an hour). */
export const DEFAULT_FEDERATED_MAX_LIFETIME_SECONDS = 3600;

/** What {@link verifyFederatedAssertion} needs. */
export interface FederatedAssertionContext {
  /** Federated credentials naming the token's issuer exactly (usable ones only). */
  readonly candidates: readonly FederatedCredential[];
  /** The `client_id` the request named, if any: it must own the matching credential. */
  readonly requestedClientId?: string;
  readonly keySets: RemoteKeySetProvider;
  readonly discovery?: FederatedIssuerDiscovery;
  readonly leewaySeconds: number;
  readonly now: Date;
}

/** A federated token that passed every check but the replay check. */
export interface VerifiedFederatedAssertion {
  readonly credential: FederatedCredential;
  readonly alg: string;
  readonly kid?: string;
  readonly subject: string;
  readonly exp: number;
  readonly iat?: number;
  readonly jti?: string;
}

const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

function fail(
  reason: ClientAuthReason,
  detail: string,
  extra: { publicDetail?: string; claim?: string; clientId?: string; exposeDetail?: boolean } = {},
): ClientAuthError {
  return new ClientAuthError({ reason, detail, ...extra });
}

/**
 * Verifies a workload token presented as `client_assertion` against the federated credentials
 * of its issuer (SPEC S9): signature with the issuer's keys (configured, `jwks_uri`, or OpenID
 * discovery under the S6 rules; never header keys), `exp` required and not passed, `nbf`/`iat`
 * not in the future, then the credential whose subject (exact or pattern), audience and required
 * claims all match, and its lifetime cap. Comparison is exact; when nothing matches, the reason
 * says which part failed and the operator detail names the near miss (another subject of the
 * issuer, an audience differing by a trailing slash or case). The `jti` is not consumed here.
 */
export async function verifyFederatedAssertion(
  assertion: string,
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
  context: FederatedAssertionContext,
): Promise<VerifiedFederatedAssertion> {
  const issuer = payload.iss as string;
  let candidates = context.candidates;
  if (context.requestedClientId !== undefined) {
    candidates = candidates.filter((c) => c.clientId === context.requestedClientId);
    if (candidates.length === 0) {
      throw fail(
        'federated_client_mismatch',
        `client_id ${context.requestedClientId} has no federated credential for issuer ${issuer}`,
        { clientId: context.requestedClientId },
      );
    }
  }

  // S2.4 rules for the header: asymmetric algorithms only, keys only from the trust configuration.
  const alg = header.alg;
  if (typeof alg !== 'string' || !PRIVATE_KEY_JWT_ALGORITHMS.includes(alg)) {
    throw fail('alg_not_allowed', `algorithm ${String(alg).slice(0, 20)} is not accepted`);
  }
  for (const member of KEY_HEADERS) {
    if (member in header) throw fail('header_key_forbidden', `the header carries "${member}"`);
  }
  if ('crit' in header) throw fail('crit_unsupported', 'the header has a crit parameter');
  const kid = typeof header.kid === 'string' ? header.kid : undefined;

  // Only credentials whose own key source verified the signature may match below.
  candidates = await verifySignature(assertion, alg, kid, issuer, candidates, context);

  // Claims common to every credential of the issuer.
  const now = Math.floor(context.now.getTime() / 1000);
  const leeway = context.leewaySeconds;
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw fail('exp_missing', 'the token has no exp', { exposeDetail: true, claim: 'exp' });
  }
  if (exp <= now - leeway) {
    throw fail('assertion_expired', 'the token has expired', { exposeDetail: true, claim: 'exp' });
  }
  if (typeof payload.nbf === 'number' && payload.nbf > now + leeway) {
    throw fail('nbf_in_future', 'the token is not valid yet', { exposeDetail: true, claim: 'nbf' });
  }
  const iat = payload.iat;
  if (iat !== undefined && (typeof iat !== 'number' || iat > now + leeway)) {
    throw fail('iat_in_future', 'the token iat is in the future', {
      exposeDetail: true,
      claim: 'iat',
    });
  }
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject.length === 0) {
    throw fail('claims_malformed', 'the token has no sub', { exposeDetail: true, claim: 'sub' });
  }

  // The credential: subject, then audience, then required claims, narrowing step by step so the
  // refusal names the first part that matched nothing.
  const bySubject = candidates.filter((c) => subjectMatches(c.subject, subject));
  if (bySubject.length === 0) {
    throw fail(
      'federated_subject_mismatch',
      `sub ${quote(subject)} matches no federated credential of ${issuer}; registered: ${candidates
        .map((c) => quote(c.subject))
        .slice(0, 5)
        .join(', ')}${nearMiss(
        subject,
        candidates.map((c) => c.subject),
      )}`,
      { publicDetail: 'the token subject matches no federated credential', claim: 'sub' },
    );
  }
  const audiences = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).filter(
    (a): a is string => typeof a === 'string',
  );
  const byAudience = bySubject.filter((c) => audiences.includes(c.audience));
  if (byAudience.length === 0) {
    const expected = [...new Set(bySubject.map((c) => c.audience))];
    throw fail(
      'federated_audience_mismatch',
      `aud ${audiences.map(quote).join(', ') || '(none)'} does not include ${expected
        .map(quote)
        .join(' or ')}${nearMissAudience(audiences, expected)}`,
      { publicDetail: 'the token audience is not the one the credential requires', claim: 'aud' },
    );
  }
  const matching = byAudience.filter((c) =>
    Object.entries(c.requiredClaims ?? {}).every(([name, value]) => payload[name] === value),
  );
  if (matching.length === 0) {
    const missing = Object.entries(byAudience[0]!.requiredClaims ?? {})
      .filter(([name, value]) => payload[name] !== value)
      .map(([name]) => name);
    throw fail(
      'federated_claim_mismatch',
      `required claim${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing or different`,
      {
        publicDetail: `required claim ${missing[0]} is missing or different`,
        claim: missing[0],
      },
    );
  }
  const clients = new Set(matching.map((c) => c.clientId));
  if (clients.size > 1) {
    throw fail(
      'federated_ambiguous',
      `the token matches federated credentials of ${clients.size} clients; send client_id`,
      { publicDetail: 'the token matches several clients; send client_id' },
    );
  }
  const credential = matching[0]!;
  const cap = credential.maxLifetimeSeconds ?? DEFAULT_FEDERATED_MAX_LIFETIME_SECONDS;
  if (exp - now > cap + leeway || (typeof iat === 'number' && exp - iat > cap + leeway)) {
    throw fail('lifetime_too_long', `the token lives longer than the ${cap} s cap`, {
      exposeDetail: true,
      claim: 'exp',
      clientId: credential.clientId,
    });
  }
  const jti = typeof payload.jti === 'string' && payload.jti.length > 0 ? payload.jti : undefined;
  if (credential.replay === 'single_use' && jti === undefined) {
    throw fail('jti_missing', 'the credential is single-use but the token has no jti', {
      exposeDetail: true,
      claim: 'jti',
      clientId: credential.clientId,
    });
  }
  return {
    credential,
    alg,
    ...(kid !== undefined && { kid }),
    subject,
    exp,
    ...(typeof iat === 'number' && { iat }),
    ...(jti !== undefined && { jti }),
  };
}

/** At most this many distinct key sources of one issuer are tried for one token. */
const MAX_KEY_SOURCES = 5;

/** Which keys a credential trusts: its static set, its `jwks_uri`, or discovery of the issuer. */
function keySourceOf(credential: FederatedCredential): string {
  if (credential.jwks) return `jwks:${JSON.stringify(credential.jwks.keys)}`;
  if (credential.jwksUri) return `uri:${credential.jwksUri}`;
  return 'discovery';
}

const SIGNATURE_FAILURE_RANK: Partial<Record<ClientAuthReason, number>> = {
  federated_keys_unavailable: 1,
  kid_unknown: 2,
  signature_invalid: 3,
};

/**
 * Verifies the signature with the key source of each group of candidates (credentials of one
 * issuer may name different sources, e.g. two clients' registrations) and resolves the
 * candidates whose own source verified it: keys trusted by one credential never vouch for
 * another credential's subject. When no source verifies, the most specific failure is thrown.
 */
async function verifySignature(
  assertion: string,
  alg: string,
  kid: string | undefined,
  issuer: string,
  candidates: readonly FederatedCredential[],
  context: FederatedAssertionContext,
): Promise<readonly FederatedCredential[]> {
  const groups = new Map<string, FederatedCredential[]>();
  for (const candidate of candidates) {
    const source = keySourceOf(candidate);
    const group = groups.get(source);
    if (group) group.push(candidate);
    else groups.set(source, [candidate]);
  }
  const verified: FederatedCredential[] = [];
  let failure: ClientAuthError | undefined;
  for (const group of [...groups.values()].slice(0, MAX_KEY_SOURCES)) {
    try {
      await verifyWithKeySource(assertion, alg, kid, issuer, group[0]!, context);
      verified.push(...group);
    } catch (error) {
      if (!(error instanceof ClientAuthError)) throw error;
      const rank = (e: ClientAuthError) => SIGNATURE_FAILURE_RANK[e.reason] ?? 0;
      if (!failure || rank(error) > rank(failure)) failure = error;
    }
  }
  if (verified.length === 0) throw failure!;
  return verified;
}

async function verifyWithKeySource(
  assertion: string,
  alg: string,
  kid: string | undefined,
  issuer: string,
  credential: FederatedCredential,
  context: FederatedAssertionContext,
): Promise<void> {
  const attempt = async (keys: readonly JWK[]): Promise<'ok' | 'no_key' | 'bad'> => {
    const fitting = keys.filter(
      (key) => (kid === undefined || key.kid === kid) && jwkFitsAlgorithm(key, alg),
    );
    if (fitting.length === 0) return 'no_key';
    for (const jwk of fitting.slice(0, 5)) {
      try {
        await compactVerify(assertion, await importVerificationKey(jwk, alg), {
          algorithms: [alg],
        });
        return 'ok';
      } catch {
        // next key
      }
    }
    return 'bad';
  };
  const outcome = (result: 'ok' | 'no_key' | 'bad') => {
    if (result === 'ok') return;
    throw result === 'no_key'
      ? fail('kid_unknown', `no key of ${issuer} fits the token (kid ${quote(kid ?? '')})`)
      : fail('signature_invalid', `the token signature does not verify with ${issuer}'s keys`);
  };

  if (credential.jwks) return outcome(await attempt(credential.jwks.keys));

  let uri = credential.jwksUri;
  try {
    if (!uri) {
      if (!context.discovery) {
        throw fail('federated_keys_unavailable', `no key source for ${issuer} (discovery is off)`);
      }
      uri = await context.discovery.jwksUriFor(issuer);
    }
    const first = await attempt((await context.keySets.get(uri)).keys);
    if (first !== 'no_key') return outcome(first);
    // S6: an unknown kid triggers one refetch (cooldown-limited), then one retry.
    const fresh = await context.keySets.refresh(uri);
    return outcome(fresh ? await attempt(fresh.keys) : 'no_key');
  } catch (error) {
    if (error instanceof ClientAuthError || error instanceof DependencyUnavailableError)
      throw error;
    if (error instanceof JwksFetchError) {
      throw fail(
        'federated_keys_unavailable',
        `keys of ${issuer} are unavailable: ${error.message}`,
      );
    }
    throw error;
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function nearMiss(subject: string, registered: readonly string[]): string {
  const close = registered.find(
    (candidate) =>
      !candidate.includes('*') &&
      (candidate.toLowerCase() === subject.toLowerCase() ||
        candidate.replace(/\/+$/, '') === subject.replace(/\/+$/, '')),
  );
  return close ? ` (near miss: ${quote(close)} differs only by case or a trailing slash)` : '';
}

function nearMissAudience(actual: readonly string[], expected: readonly string[]): string {
  for (const want of expected) {
    for (const got of actual) {
      if (got.replace(/\/+$/, '') === want.replace(/\/+$/, '')) {
        return ` (near miss: ${quote(got)} differs from ${quote(want)} by a trailing slash)`;
      }
      if (got.toLowerCase() === want.toLowerCase()) {
        return ` (near miss: ${quote(got)} differs from ${quote(want)} by case)`;
      }
    }
  }
  return '';
}

/**
 * For a token whose issuer matches no federated credential: the registered issuer it nearly
 * matches (trailing slash, case), for the failure detail.
 */
export function nearMissIssuer(issuer: string, known: readonly string[]): string | undefined {
  const strip = (value: string) => value.replace(/\/+$/, '');
  return known.find(
    (candidate) =>
      candidate !== issuer &&
      (strip(candidate) === strip(issuer) || candidate.toLowerCase() === issuer.toLowerCase()),
  );
}
