import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { ClientAuthError, type ClientAuthReason } from '../errors.js';
import { hmacKeyObject, publicKeyObject, verifyJwsSignature } from '../crypto/jws.js';
import { JwksFetchError } from '../jwks/jwks-errors.js';
import type { KeySetSnapshot, RemoteKeySetProvider } from '../jwks/remote-key-set.interface.js';
import type { ClientAuthenticationSettings } from '../options.js';
import type {
  AudienceForm,
  ClientCredential,
  RegisteredClient,
  VerifiedAssertionInfo,
} from '../types.js';
import {
  algorithmNamesMatch,
  isAlgorithmAllowed,
  jwkFitsAlgorithm,
  minimumHmacSecretBytes,
  type AssertionAuthMethod,
} from './algorithms.js';
import { checkAudience, isClientAuthenticationTyp } from './audience-policy.js';
import { decodeAssertion, type DecodedAssertion } from './decode-assertion.js';
import { resolveClientAuthenticationSettings } from './resolve-settings.js';

/** What {@link verifyClientAssertion} needs besides the assertion and the registration. */
export interface AssertionContext {
  /** Client authentication settings (defaults of `CLIENT_AUTHENTICATION_DEFAULTS` apply). */
  readonly settings: ClientAuthenticationSettings;
  /** The URL of the endpoint being called (an accepted `aud` under `compat`). */
  readonly endpointUrl?: string;
  /** Source of `jwks_uri` key sets (SPEC S6). */
  readonly keySets: RemoteKeySetProvider;
  /** The current time. */
  readonly now: Date;
  /**
   * `decodeAssertion` of this very assertion, when the caller already decoded it (the
   * authenticator does, to find the client): it is not parsed again.
   */
  readonly decoded?: DecodedAssertion;
}

/** A client assertion whose signature and claims passed; its `jti` is not consumed yet. */
export interface VerifiedAssertion extends VerifiedAssertionInfo {
  /** The JWT method the assertion authenticated with. */
  readonly method: AssertionAuthMethod;
  /** `kid` of the header, or of the key that verified the assertion. */
  readonly kid?: string;
  /** Id of the stored credential that verified the assertion (not set for `jwks_uri` keys). */
  readonly credentialId?: string;
}

/** Header parameters that carry or point at a key: never trusted (SPEC S2.4, RFC 7523bis §5). */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/** `typ` values a client assertion may carry (RFC 7519 §5.1, draft-ietf-oauth-rfc7523bis). */
const ACCEPTED_TYP = /^(?:application\/)?(?:jwt|client-authentication\+jwt)$/i;

/** A key the assertion may have been signed with. */
interface KeyCandidate {
  readonly kid?: string;
  readonly credentialId?: string;
  readonly load: () => KeyObject;
}

type Selection = KeyCandidate[] | { readonly reason: ClientAuthReason; readonly detail: string };

/** An untrusted header value for a log detail: quoted, escaped and truncated. */
function printable(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.length > 66 ? `${quoted.slice(0, 64)}…"` : quoted;
}

function usable(credential: ClientCredential, now: Date): boolean {
  // SPEC S3: a credential counts only while active and within its validity window.
  return (
    credential.status === 'active' &&
    (credential.notBefore === undefined || credential.notBefore.getTime() <= now.getTime()) &&
    (credential.expiresAt === undefined || credential.expiresAt.getTime() > now.getTime())
  );
}

/**
 * Verifies a client assertion (RFC 7523 §3, SPEC S2.2–S2.6 and S2.8) against a client
 * registration, without consuming its `jti` (the caller does that last, SPEC S2.7):
 *
 * 1. size cap before parsing (`assertion_too_large`); compact JWS with JSON header and payload
 *    (`assertion_malformed`);
 * 2. header: `alg` in the method's set, never `none` (`alg_not_allowed`), equal to a registered
 *    `token_endpoint_auth_signing_alg` (`alg_not_registered`); no `jwk`/`jku`/`x5u`/`x5c`
 *    (`header_key_forbidden`); no `crit` (`crit_unsupported`); `typ`, when present, `JWT` or
 *    `client-authentication+jwt` (`typ_invalid`);
 * 3. keys only from the registration: by `kid` when present, else each registered key fitting
 *    the algorithm (at most `maxKeysWithoutKid`); for a `jwks_uri` client one refresh on an
 *    unknown `kid` or a failed signature, then one retry; HMAC secrets no shorter than the hash;
 * 4. claims (exposing the failed rule from here on): `iss` = `sub` = client_id, `aud` per the
 *    audience policy, `exp` required and not passed, `nbf`/`iat` not in the future (with leeway),
 *    lifetime caps, `jti` present.
 *
 * Failures before the signature is verified carry the generic description; after it, the
 * description names the rule (SPEC S2.9).
 *
 * @example
 * ```ts
 * const verified = await verifyClientAssertion(assertion, client, {
 *   settings: { issuer: 'https://as.example' },
 *   endpointUrl: 'https://as.example/oauth/token',
 *   keySets: jwksCache,
 *   now: new Date(),
 * });
 * await replayStore.consume(replayKey('private_key_jwt', client.clientId, verified.jti), …);
 * ```
 */
export async function verifyClientAssertion(
  assertion: string,
  client: RegisteredClient,
  ctx: AssertionContext,
): Promise<VerifiedAssertion> {
  const settings = resolveClientAuthenticationSettings(ctx.settings);
  const clientId = client.clientId;
  const reject = (
    reason: ClientAuthReason,
    detail: string,
    opts: { verified?: boolean; claim?: string; cause?: unknown } = {},
  ): ClientAuthError =>
    new ClientAuthError({
      reason,
      detail,
      exposeDetail: opts.verified ?? false,
      claim: opts.claim,
      clientId,
      cause: opts.cause,
    });

  // S2.2: size cap, then structure.
  const { header, payload } =
    ctx.decoded ?? decodeAssertion(assertion, settings.maxAssertionBytes, clientId);

  const method = client.tokenEndpointAuthMethod;
  if (method !== 'private_key_jwt' && method !== 'client_secret_jwt') {
    throw reject(
      'method_not_registered',
      `the client is registered for ${method}, not a JWT method`,
    );
  }

  // S2.4: algorithm and header.
  const headerAlg = header.alg;
  if (typeof headerAlg !== 'string') throw reject('assertion_malformed', 'the header has no alg');
  if (!isAlgorithmAllowed(method, headerAlg)) {
    throw reject('alg_not_allowed', `alg ${printable(headerAlg)} is not accepted for ${method}`, {
      claim: 'alg',
    });
  }
  const alg: string = headerAlg;
  if (
    client.tokenEndpointAuthSigningAlg !== undefined &&
    alg !== client.tokenEndpointAuthSigningAlg
  ) {
    // RFC 7591 §2: the registered token_endpoint_auth_signing_alg is the only one accepted.
    throw reject('alg_not_registered', `alg ${alg} differs from the registered algorithm`, {
      claim: 'alg',
    });
  }
  const keyHeader = KEY_HEADERS.find((name) => name in header);
  if (keyHeader) {
    throw reject(
      'header_key_forbidden',
      `the header carries ${keyHeader}; keys come from the registration only`,
      {
        claim: keyHeader,
      },
    );
  }
  if ('crit' in header) {
    // RFC 7515 §4.1.11: no extension is understood, so any `crit` must be refused.
    throw reject('crit_unsupported', 'the header has a crit parameter', { claim: 'crit' });
  }
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    throw reject('assertion_malformed', 'the header kid is not a non-empty string', {
      claim: 'kid',
    });
  }
  const typ = header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYP.test(typ))) {
    throw reject('typ_invalid', 'typ must be JWT or client-authentication+jwt', { claim: 'typ' });
  }

  // S2.5: keys from the registration, then the signature.
  const candidatesLimit = Math.max(1, settings.maxKeysWithoutKid);
  const select = (
    entries: readonly KeyCandidate[],
    fits: (entry: KeyCandidate) => boolean,
  ): Selection => {
    if (kid !== undefined) {
      const named = entries.filter((entry) => entry.kid === kid);
      if (named.length === 0)
        return { reason: 'kid_unknown', detail: `no registered key has kid ${printable(kid)}` };
      const fitting = named.filter(fits);
      if (fitting.length === 0) {
        return {
          reason: 'no_usable_key',
          detail: `the key ${printable(kid)} does not fit alg ${alg}`,
        };
      }
      return fitting.slice(0, candidatesLimit);
    }
    const fitting = entries.filter(fits);
    if (fitting.length === 0) {
      return { reason: 'no_usable_key', detail: `no registered key fits alg ${alg}` };
    }
    // Without a kid only the first maxKeysWithoutKid fitting keys are tried, which bounds the
    // work one request can cause.
    return fitting.slice(0, candidatesLimit);
  };

  // RFC 7515 §5.2: the signature covers the ASCII of the first two parts as sent.
  const lastDot = assertion.lastIndexOf('.');
  const signingInput = Buffer.from(assertion.slice(0, lastDot), 'ascii');
  const signature = Buffer.from(assertion.slice(lastDot + 1), 'base64url');

  let signed: { candidate: KeyCandidate } | undefined;
  if (method === 'client_secret_jwt') {
    signed = await verifyWithSecrets();
  } else if (client.jwksUri !== undefined) {
    signed = await verifyWithRemoteKeys(client.jwksUri);
  } else {
    signed = await verifyWithRegisteredKeys();
  }

  async function tryCandidates(
    candidates: readonly KeyCandidate[],
  ): Promise<{ candidate: KeyCandidate } | undefined> {
    for (const candidate of candidates) {
      let key: KeyObject;
      try {
        key = candidate.load();
      } catch {
        continue; // an unimportable registered key is skipped, never fatal
      }
      if (verifyJwsSignature(alg, key, signingInput, signature)) {
        return { candidate };
      }
      // signature mismatch (or a key that cannot sign with this alg): try the next key
    }
    return undefined;
  }

  function selected(selection: Selection): KeyCandidate[] {
    if (Array.isArray(selection)) return selection;
    throw reject(selection.reason, selection.detail, { claim: 'kid' });
  }

  async function verifyWithRegisteredKeys() {
    const entries: KeyCandidate[] = [];
    const fitsByEntry = new Map<KeyCandidate, boolean>();
    for (const credential of client.credentials) {
      if (credential.kind !== 'public_key' || !credential.jwk || !usable(credential, ctx.now))
        continue;
      const jwk = credential.jwk;
      const entry: KeyCandidate = {
        kid: credential.kid ?? jwk.kid,
        credentialId: credential.id,
        load: () => publicKeyObject(jwk, alg),
      };
      // The stored credential's alg, when set, binds the key to that algorithm (RFC 7517 §4.4).
      const algMatches = credential.alg === undefined || algorithmNamesMatch(credential.alg, alg);
      fitsByEntry.set(entry, algMatches && jwkFitsAlgorithm(jwk, alg));
      entries.push(entry);
    }
    const candidates = selected(select(entries, (entry) => fitsByEntry.get(entry) === true));
    return tryCandidates(candidates);
  }

  async function verifyWithRemoteKeys(uri: string) {
    const fromSnapshot = (snapshot: KeySetSnapshot) => {
      const fits = new Map<KeyCandidate, boolean>();
      const entries = snapshot.keys.map((jwk: JWK) => {
        const entry: KeyCandidate = {
          kid: jwk.kid,
          load: () => publicKeyObject(jwk, alg),
        };
        fits.set(entry, jwkFitsAlgorithm(jwk, alg));
        return entry;
      });
      return select(entries, (entry) => fits.get(entry) === true);
    };
    let refreshed = false;
    const refresh = async (): Promise<KeySetSnapshot | undefined> => {
      refreshed = true;
      try {
        return await ctx.keySets.refresh(uri);
      } catch (cause) {
        const detail = `the client key set could not be refreshed${keySetFailure(cause)}`;
        throw reject('jwks_unavailable', detail, { cause });
      }
    };

    let snapshot: KeySetSnapshot;
    try {
      snapshot = await ctx.keySets.get(uri);
    } catch (cause) {
      const detail = `the client key set could not be obtained${keySetFailure(cause)}`;
      throw reject('jwks_unavailable', detail, { cause });
    }
    let selection = fromSnapshot(snapshot);
    if (!Array.isArray(selection)) {
      // S2.5: an unknown kid (or no fitting key) may mean the client rotated: refetch once.
      const fresh = await refresh();
      if (fresh) selection = fromSnapshot(fresh);
    }
    const result = await tryCandidates(selected(selection));
    if (result || refreshed) return result;
    // S2.5: a failed signature with a cache older than the cooldown: refetch once, retry once.
    const fresh = await refresh();
    if (!fresh) return undefined;
    const retry = fromSnapshot(fresh);
    return Array.isArray(retry) ? tryCandidates(retry) : undefined;
  }

  async function verifyWithSecrets() {
    let secrets = client.credentials.filter(
      (c): c is ClientCredential & { secret: string } =>
        c.kind === 'secret' &&
        typeof c.secret === 'string' &&
        c.secret !== '' &&
        usable(c, ctx.now),
    );
    // A kid narrows the secrets only when it names one of them (secrets rarely carry a kid).
    if (kid !== undefined && secrets.some((c) => c.kid === kid)) {
      secrets = secrets.filter((c) => c.kid === kid);
    }
    if (secrets.length === 0) throw reject('no_usable_key', 'the client has no usable secret');
    // RFC 7518 §3.2: a key of the same size as the hash output or larger.
    const minBytes = minimumHmacSecretBytes(alg);
    const strong = secrets.filter((c) => Buffer.byteLength(c.secret, 'utf8') >= minBytes);
    if (strong.length === 0) {
      throw reject(
        'no_usable_key',
        `the client secret is shorter than ${minBytes} bytes, too short for ${alg}`,
      );
    }
    const candidates = strong.slice(0, candidatesLimit).map((credential): KeyCandidate => ({
      kid: credential.kid,
      credentialId: credential.id,
      load: () => hmacKeyObject(credential, credential.secret, alg),
    }));
    return tryCandidates(candidates);
  }

  if (!signed) throw reject('signature_invalid', 'the assertion signature did not verify');

  // S2.6: claims. The signature is verified: failures may name the rule (SPEC S2.9).
  const claimError = (reason: ClientAuthReason, detail: string, claim: string) =>
    reject(reason, detail, { verified: true, claim });
  // The signature covers exactly the payload bytes `decodeAssertion` parsed: these are the
  // verified claims.
  const claims: Readonly<Record<string, unknown>> = payload;

  for (const name of ['iss', 'sub', 'jti'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') {
      throw claimError('claims_malformed', `${name} must be a string`, name);
    }
  }
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const value = claims[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw claimError('claims_malformed', `${name} must be a NumericDate`, name);
    }
  }
  // RFC 7523 §3 items 1–2: iss and sub are the client_id.
  if (claims.iss !== clientId) throw claimError('iss_mismatch', 'iss must be the client_id', 'iss');
  if (claims.sub !== clientId) throw claimError('sub_mismatch', 'sub must be the client_id', 'sub');

  const policy = client.audiencePolicy ?? settings.audiencePolicy;
  let audienceForm: AudienceForm;
  try {
    audienceForm = checkAudience(claims.aud, {
      issuer: settings.issuer,
      tokenEndpoint: settings.tokenEndpoint,
      endpointUrl: ctx.endpointUrl,
      policy,
      requireString: client.requireStringAudience ?? false,
      strictTyped: isClientAuthenticationTyp(typ),
    });
  } catch (error) {
    // Re-raised with the client id, for the failure record.
    if (error instanceof ClientAuthError) throw claimError(error.reason, error.detail, 'aud');
    throw error;
  }

  const leeway = settings.clockLeewaySeconds;
  const cap = client.maxAssertionLifetimeSeconds ?? settings.maxAssertionLifetimeSeconds;
  const now = Math.floor(ctx.now.getTime() / 1000);
  const exp = claims.exp as number | undefined;
  const nbf = claims.nbf as number | undefined;
  const iat = claims.iat as number | undefined;
  // RFC 7523 §3 item 4: exp is required; RFC 7519 §4.1.4: not accepted on or after exp.
  if (exp === undefined) throw claimError('exp_missing', 'the assertion has no exp claim', 'exp');
  if (now >= exp + leeway)
    throw claimError('assertion_expired', 'the assertion has expired', 'exp');
  // RFC 7519 §4.1.5: not accepted before nbf.
  if (nbf !== undefined && nbf > now + leeway) {
    throw claimError('nbf_in_future', 'nbf is in the future', 'nbf');
  }
  if (iat !== undefined && iat > now + leeway) {
    throw claimError('iat_in_future', 'iat is in the future', 'iat');
  }
  // SPEC S2.6: lifetime caps (exp − now, and exp − iat when iat is present).
  if (exp - now > cap + leeway) {
    throw claimError('exp_too_far', `exp is more than ${cap} seconds away`, 'exp');
  }
  if (iat !== undefined && exp - iat > cap) {
    throw claimError('lifetime_too_long', `exp − iat exceeds ${cap} seconds`, 'exp');
  }
  // RFC 7523 §3 item 7 / SPEC S2.7: jti is required (single use is enforced by the caller).
  const jti = claims.jti as string | undefined;
  if (jti === undefined || jti === '')
    throw claimError('jti_missing', 'the assertion has no jti', 'jti');

  return {
    method,
    alg,
    ...(kid !== undefined || signed.candidate.kid !== undefined
      ? { kid: (kid as string | undefined) ?? signed.candidate.kid }
      : {}),
    ...(signed.candidate.credentialId !== undefined
      ? { credentialId: signed.candidate.credentialId }
      : {}),
    jti,
    exp,
    ...(iat !== undefined ? { iat } : {}),
    audienceForm,
    ...(typ !== undefined ? { typ: typ as string } : {}),
  };
}

/**
 * Why a key set could not be had, for the operator's detail (logs, failure record; never the
 * response before the signature is verified): the fetch reason code and its message, which
 * names the origin and the rule, never a key or a credential.
 */
function keySetFailure(cause: unknown): string {
  return cause instanceof JwksFetchError ? ` (${cause.reason}: ${cause.message})` : '';
}
