import { compactVerify, type CryptoKey, type JWK } from 'jose';
import {
  algorithmNamesMatch,
  isAlgorithmAllowed,
  jwkFitsAlgorithm,
  methodForAlgorithm,
  minimumHmacSecretBytes,
  type AssertionAuthMethod,
} from '../../core/assertion/algorithms.js';
import { checkAudience, isClientAuthenticationTyp } from '../../core/assertion/audience-policy.js';
import { decodeAssertion } from '../../core/assertion/decode-assertion.js';
import { resolveClientAuthenticationSettings } from '../../core/assertion/resolve-settings.js';
import { ClientAuthenticator } from '../../core/authenticate-client.js';
import { InMemoryClientStore } from '../../core/clients/in-memory-client-store.js';
import { importHmacKey, importVerificationKey } from '../../core/crypto/key-import.js';
import { ClientAuthError, type ClientAuthReason, type OAuthErrorCode } from '../../core/errors.js';
import type {
  KeySetSnapshot,
  RemoteKeySetProvider,
} from '../../core/jwks/remote-key-set.interface.js';
import {
  JWT_BEARER_CLIENT_ASSERTION_TYPE,
  type ClientAuthenticationSettings,
} from '../../core/options.js';
import type { ReplayStore } from '../../core/replay/replay-store.interface.js';
import type {
  AudienceForm,
  AudiencePolicy,
  ClientCredential,
  RegisteredClient,
  TokenEndpointAuthMethod,
} from '../../core/types.js';

/** What {@link explainClientAssertion} checks an assertion against. */
export interface ExplainAssertionInput {
  /** The client assertion (compact JWS). */
  readonly assertion: string;
  /** The client the assertion should authenticate (`client_id` of the request). */
  readonly clientId: string;
  /** Its registration; undefined when the registry has no such client. */
  readonly client: RegisteredClient | undefined;
  /** The server's settings: issuer, token endpoint, audience policy, leeway, caps. */
  readonly settings: ClientAuthenticationSettings;
  /** The URL of the endpoint the assertion is sent to (accepted `aud` under `compat`). */
  readonly endpointUrl?: string;
  /** Source of `jwks_uri` key sets (a `JwksCache` with the server's fetch rules). */
  readonly keySets: RemoteKeySetProvider;
  /** The time to judge `exp`, `nbf`, `iat` and credential validity at. */
  readonly now: Date;
}

/** Outcome of one rule: `skipped` when an earlier failure leaves nothing to check. */
export type RuleStatus = 'pass' | 'fail' | 'skipped' | 'not_checked';

/** One SPEC S2 rule and how the assertion fared. */
export interface ExplainedRule {
  /** Stable rule id (`alg`, `kid`, `signature`, `aud`, …). */
  readonly id: string;
  /** The SPEC section (`S2.4`). */
  readonly section: string;
  /** What the rule demands, in a few words. */
  readonly title: string;
  readonly status: RuleStatus;
  /** The S2.9 reason code the server reports when this rule fails. */
  readonly reason?: ClientAuthReason;
  /** What was found. Never contains key material, a secret or the assertion. */
  readonly detail: string;
}

/** The server's verdict, from the same code path the token endpoint runs. */
export type ExplainVerdict =
  | {
      readonly accepted: true;
      /** The audience form the server would record (readiness for `strict`, SPEC S2.8). */
      readonly audienceForm?: AudienceForm;
    }
  | {
      readonly accepted: false;
      readonly error: OAuthErrorCode;
      readonly reason: ClientAuthReason;
      /** The operator's detail (logs, failure record). */
      readonly detail: string;
      /** What the client would see as `error_description` (generic before the signature). */
      readonly description: string;
    };

/** A full explanation of one assertion against one registration. */
export interface AssertionExplanation {
  readonly clientId: string;
  /** The registered method, when the client is known. */
  readonly method?: TokenEndpointAuthMethod;
  /** The effective audience policy (per-client override applied). */
  readonly policy: AudiencePolicy;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /** The time the assertion was judged at (ISO 8601). */
  readonly at: string;
  /** The decoded JOSE header, when the assertion could be decoded. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** The decoded claims (verified only when the signature rule passed). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Whether the claims were checked after a verified signature. */
  readonly claimsVerified: boolean;
  /** Every rule, in the order the server applies them. */
  readonly rules: readonly ExplainedRule[];
  readonly verdict: ExplainVerdict;
  /**
   * Whether the first failing rule names the verdict's reason (always expected; a mismatch means
   * the rule list missed something and the verdict is authoritative).
   */
  readonly consistent: boolean;
}

/** Header members that carry or point at a key (SPEC S2.4, RFC 7523bis §5). */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
/** `typ` values a client assertion may carry (RFC 7519 §5.1, draft-ietf-oauth-rfc7523bis). */
const ACCEPTED_TYP = /^(?:application\/)?(?:jwt|client-authentication\+jwt)$/i;

/** Never consumes anything: replay is not checked offline. */
const OFFLINE_REPLAY_STORE: ReplayStore = { consume: () => Promise.resolve(true) };

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 66 ? `${text.slice(0, 64)}…"` : text;
}

function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

function credentialState(credential: ClientCredential, now: Date): string {
  if (credential.status !== 'active') return credential.status;
  if (credential.notBefore !== undefined && credential.notBefore.getTime() > now.getTime()) {
    return 'not yet valid';
  }
  if (credential.expiresAt !== undefined && credential.expiresAt.getTime() <= now.getTime()) {
    return 'expired';
  }
  return 'active';
}

interface Candidate {
  readonly label: string;
  readonly load: () => Promise<CryptoKey>;
}

type Selection =
  | { readonly candidates: Candidate[]; readonly detail: string }
  | { readonly reason: ClientAuthReason; readonly detail: string };

const AUDIENCE_FORMS: Record<AudienceForm, string> = {
  issuer: 'the issuer identifier as a string (passes strict)',
  issuer_array: 'a one-member array holding the issuer (passes strict unless a string is required)',
  token_endpoint: 'the token endpoint URL (compat only: strict refuses it)',
  endpoint_url: 'the URL of the endpoint called (compat only: strict refuses it)',
  issuer_among_others: 'an array with the issuer among other values (compat only)',
};

/**
 * Explains a client assertion against a registration: every rule of SPEC S2.2–S2.8 with its
 * outcome and the S2.9 reason code a failure reports, plus the verdict of the server's own code
 * path (`ClientAuthenticator` → `verifyClientAssertion`), so the report and the token endpoint
 * never disagree. Unlike the server, which stops at the first failure, every rule that can still
 * be judged is judged (claims even when the signature failed, flagged as unverified). Replay
 * (SPEC S2.7, S5) is reported as not checked: it depends on the server's store.
 *
 * @example
 * ```ts
 * const report = await explainClientAssertion({
 *   assertion, clientId: 'billing', client: registration,
 *   settings: { issuer: 'https://auth.example.com', audiencePolicy: 'strict' },
 *   keySets: new JwksCache(), now: new Date(),
 * });
 * report.rules.filter((rule) => rule.status === 'fail'); // [{ id: 'aud', reason: 'aud_not_issuer', … }]
 * ```
 */
export async function explainClientAssertion(
  input: ExplainAssertionInput,
): Promise<AssertionExplanation> {
  const settings = resolveClientAuthenticationSettings(input.settings);
  const { assertion, client, clientId, now } = input;
  const policy = client?.audiencePolicy ?? settings.audiencePolicy;
  const rules: ExplainedRule[] = [];
  const add = (
    id: string,
    section: string,
    title: string,
    status: RuleStatus,
    detail: string,
    reason?: ClientAuthReason,
  ) => {
    rules.push({ id, section, title, status, detail, ...(reason !== undefined && { reason }) });
  };

  const base = {
    clientId,
    ...(client && { method: client.tokenEndpointAuthMethod }),
    policy,
    issuer: settings.issuer,
    tokenEndpoint: settings.tokenEndpoint,
    at: now.toISOString(),
  };

  // S2.2: size, then structure.
  const bytes = Buffer.byteLength(assertion, 'utf8');
  const sizeOk = bytes <= settings.maxAssertionBytes;
  add(
    'size',
    'S2.2',
    `at most ${settings.maxAssertionBytes} bytes`,
    sizeOk ? 'pass' : 'fail',
    `${bytes} bytes`,
    sizeOk ? undefined : 'assertion_too_large',
  );
  let header: Readonly<Record<string, unknown>> | undefined;
  let payload: Readonly<Record<string, unknown>> | undefined;
  if (sizeOk) {
    try {
      ({ header, payload } = decodeAssertion(assertion, Number.MAX_SAFE_INTEGER));
      add('structure', 'S2.2', 'a compact JWS with JSON header and claims', 'pass', 'decoded');
    } catch (error) {
      if (!(error instanceof ClientAuthError)) throw error;
      add(
        'structure',
        'S2.2',
        'a compact JWS with JSON header and claims',
        'fail',
        error.detail,
        error.reason,
      );
    }
  } else {
    add(
      'structure',
      'S2.2',
      'a compact JWS with JSON header and claims',
      'skipped',
      'not parsed: too large',
    );
  }

  const rest = await (header && payload
    ? explainDecoded(header, payload)
    : Promise.resolve({ claimsVerified: false }));

  async function explainDecoded(
    header: Readonly<Record<string, unknown>>,
    claims: Readonly<Record<string, unknown>>,
  ): Promise<{ claimsVerified: boolean }> {
    const alg = header.alg;
    const skip = (id: string, section: string, title: string, why: string) =>
      add(id, section, title, 'skipped', why);

    // SPEC S9: an `iss` that is an external issuer URL (not the client) makes the server treat
    // the token as a federated workload token; this report covers client assertions only.
    const iss = claims.iss;
    const external =
      typeof iss === 'string' &&
      iss !== claims.sub &&
      iss !== clientId &&
      /^https?:\/\//i.test(iss);
    add(
      'assertion_kind',
      'S2.3',
      'a client assertion (iss is the client), not a federated token',
      external ? 'fail' : 'pass',
      external
        ? `iss ${quote(iss)} is an external issuer: the server would look for a federated credential (S9) trusting it`
        : 'iss names a client',
      external ? 'federated_issuer_unknown' : undefined,
    );

    // S2.3: the request's client_id equals iss and sub; the client exists, is enabled, and is
    // registered for the method the assertion uses.
    const idsMatch = claims.iss === clientId && claims.sub === clientId;
    add(
      'client_id',
      'S2.3',
      'client_id equals iss and sub',
      idsMatch ? 'pass' : 'fail',
      idsMatch
        ? `iss and sub are ${quote(clientId)}`
        : `client_id ${quote(clientId)}, iss ${quote(claims.iss)}, sub ${quote(claims.sub)}`,
      idsMatch ? undefined : 'client_id_mismatch',
    );
    if (!client) {
      add(
        'client',
        'S2.3',
        'registered and enabled',
        'fail',
        `no client ${quote(clientId)}`,
        'client_unknown',
      );
    } else if (!client.enabled) {
      add(
        'client',
        'S2.3',
        'registered and enabled',
        'fail',
        'the client is disabled',
        'client_disabled',
      );
    } else {
      add(
        'client',
        'S2.3',
        'registered and enabled',
        'pass',
        `registered for ${client.tokenEndpointAuthMethod}`,
      );
    }
    const requested = methodForAlgorithm(alg);
    let method: AssertionAuthMethod | undefined;
    if (!client) {
      skip('method', 'S2.3', 'the method the client registered', 'no registration');
    } else if (client.tokenEndpointAuthMethod !== requested) {
      add(
        'method',
        'S2.3',
        'the method the client registered',
        'fail',
        `alg ${quote(alg)} means ${requested}; the client is registered for ${client.tokenEndpointAuthMethod}`,
        'method_not_registered',
      );
    } else {
      method = requested;
      add('method', 'S2.3', 'the method the client registered', 'pass', requested);
    }

    // S2.4: algorithm and header.
    const judgedMethod = method ?? requested;
    let usableAlg: string | undefined;
    if (typeof alg !== 'string') {
      add(
        'alg',
        'S2.4',
        `an algorithm accepted for ${judgedMethod}`,
        'fail',
        'the header has no alg',
        'assertion_malformed',
      );
    } else if (!isAlgorithmAllowed(judgedMethod, alg)) {
      add(
        'alg',
        'S2.4',
        `an algorithm accepted for ${judgedMethod}`,
        'fail',
        alg === 'none'
          ? 'alg "none": an unsigned assertion is never accepted (RFC 7523 §3 item 9)'
          : `alg ${quote(alg)} is not accepted for ${judgedMethod}`,
        'alg_not_allowed',
      );
    } else {
      usableAlg = alg;
      add('alg', 'S2.4', `an algorithm accepted for ${judgedMethod}`, 'pass', alg);
    }
    const registeredAlg = client?.tokenEndpointAuthSigningAlg;
    if (!client) {
      skip('alg_registered', 'S2.4', 'the registered signing algorithm', 'no registration');
    } else if (registeredAlg === undefined) {
      add(
        'alg_registered',
        'S2.4',
        'the registered signing algorithm',
        'pass',
        'none registered: any accepted alg',
      );
    } else if (alg !== registeredAlg) {
      add(
        'alg_registered',
        'S2.4',
        'the registered signing algorithm',
        'fail',
        `alg ${quote(alg)}; the client registered ${registeredAlg}`,
        'alg_not_registered',
      );
      usableAlg = undefined;
    } else {
      add('alg_registered', 'S2.4', 'the registered signing algorithm', 'pass', registeredAlg);
    }
    const keyHeader = KEY_HEADERS.find((name) => name in header);
    add(
      'header_keys',
      'S2.4',
      'no jwk, jku, x5u or x5c header',
      keyHeader ? 'fail' : 'pass',
      keyHeader ? `the header carries ${keyHeader}; keys come from the registration only` : 'none',
      keyHeader ? 'header_key_forbidden' : undefined,
    );
    add(
      'crit',
      'S2.4',
      'no crit header',
      'crit' in header ? 'fail' : 'pass',
      'crit' in header ? 'crit is present; no extension is understood (RFC 7515 §4.1.11)' : 'none',
      'crit' in header ? 'crit_unsupported' : undefined,
    );
    const kid = header.kid;
    const kidOk = kid === undefined || (typeof kid === 'string' && kid !== '');
    add(
      'kid_format',
      'S2.4',
      'kid, when present, a non-empty string',
      kidOk ? 'pass' : 'fail',
      kid === undefined ? 'no kid' : kidOk ? quote(kid) : `kid ${quote(kid)}`,
      kidOk ? undefined : 'assertion_malformed',
    );
    const typ = header.typ;
    const typOk = typ === undefined || (typeof typ === 'string' && ACCEPTED_TYP.test(typ));
    add(
      'typ',
      'S2.4',
      'typ, when present, JWT or client-authentication+jwt',
      typOk ? 'pass' : 'fail',
      typ === undefined ? 'no typ' : quote(typ),
      typOk ? undefined : 'typ_invalid',
    );

    // S2.5: keys from the registration, then the signature.
    let verified: string | undefined;
    const keyTitle = 'a registered key for the kid and alg';
    const sigTitle = 'the signature verifies';
    if (!client || !method) {
      skip('key', 'S2.5', keyTitle, 'no registration for this method');
      skip('signature', 'S2.5', sigTitle, 'no key to verify with');
    } else if (usableAlg === undefined || !kidOk) {
      skip('key', 'S2.5', keyTitle, 'the header is refused');
      skip('signature', 'S2.5', sigTitle, 'the header is refused');
    } else {
      const chosenAlg = usableAlg;
      const kidValue = kid as string | undefined;
      const limit = Math.max(1, settings.maxKeysWithoutKid);
      const result = await selectAndVerify(client, method, chosenAlg, kidValue, limit);
      if ('reason' in result.selection) {
        add('key', 'S2.5', keyTitle, 'fail', result.selection.detail, result.selection.reason);
        skip('signature', 'S2.5', sigTitle, 'no key to verify with');
      } else {
        add('key', 'S2.5', keyTitle, 'pass', result.selection.detail);
        if (result.verifiedWith !== undefined) {
          verified = result.verifiedWith;
          add('signature', 'S2.5', sigTitle, 'pass', `verified with ${result.verifiedWith}`);
        } else {
          add(
            'signature',
            'S2.5',
            sigTitle,
            'fail',
            `no candidate key verifies it (${result.selection.candidates.map((c) => c.label).join(', ')})`,
            'signature_invalid',
          );
        }
      }
    }
    const claimsVerified = verified !== undefined;

    // S2.6 – S2.8: claims (judged even when unverified, to show every problem at once).
    const malformed: string[] = [];
    for (const name of ['iss', 'sub', 'jti'] as const) {
      if (claims[name] !== undefined && typeof claims[name] !== 'string')
        malformed.push(`${name} must be a string`);
    }
    for (const name of ['exp', 'nbf', 'iat'] as const) {
      const value = claims[name];
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
        malformed.push(`${name} must be a NumericDate`);
      }
    }
    add(
      'claim_types',
      'S2.6',
      'iss, sub, jti strings; exp, nbf, iat numbers',
      malformed.length ? 'fail' : 'pass',
      malformed.length ? malformed.join('; ') : 'well-formed',
      malformed.length ? 'claims_malformed' : undefined,
    );
    const issOk = claims.iss === clientId;
    add(
      'iss',
      'S2.6',
      'iss is the client_id',
      issOk ? 'pass' : 'fail',
      quote(claims.iss),
      issOk ? undefined : 'iss_mismatch',
    );
    const subOk = claims.sub === clientId;
    add(
      'sub',
      'S2.6',
      'sub is the client_id',
      subOk ? 'pass' : 'fail',
      quote(claims.sub),
      subOk ? undefined : 'sub_mismatch',
    );

    const strictTyped = isClientAuthenticationTyp(typ);
    const audTitle = `aud under the ${strictTyped ? 'strict (typ client-authentication+jwt)' : policy} policy`;
    try {
      const form = checkAudience(claims.aud, {
        issuer: settings.issuer,
        tokenEndpoint: settings.tokenEndpoint,
        endpointUrl: input.endpointUrl,
        policy,
        requireString: client?.requireStringAudience ?? false,
        strictTyped,
      });
      add(
        'aud',
        'S2.8',
        audTitle,
        'pass',
        `${claims.aud === undefined ? 'no aud' : quote(claims.aud)}: ${AUDIENCE_FORMS[form]}`,
      );
    } catch (error) {
      if (!(error instanceof ClientAuthError)) throw error;
      add(
        'aud',
        'S2.8',
        audTitle,
        'fail',
        `${claims.aud === undefined ? 'no aud' : quote(claims.aud)}: ${error.detail}`,
        error.reason,
      );
    }

    const leeway = settings.clockLeewaySeconds;
    const cap = client?.maxAssertionLifetimeSeconds ?? settings.maxAssertionLifetimeSeconds;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const number = (value: unknown) =>
      typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    const exp = number(claims.exp);
    const nbf = number(claims.nbf);
    const iat = number(claims.iat);
    const timeTitle = `exp present and not passed (leeway ${leeway} s)`;
    if (claims.exp === undefined) {
      add('exp', 'S2.6', timeTitle, 'fail', 'no exp claim', 'exp_missing');
    } else if (exp === undefined) {
      skip('exp', 'S2.6', timeTitle, 'exp is not a number');
    } else if (nowSeconds >= exp + leeway) {
      add(
        'exp',
        'S2.6',
        timeTitle,
        'fail',
        `expired at ${isoSeconds(exp)}, ${nowSeconds - exp} s ago`,
        'assertion_expired',
      );
    } else {
      add(
        'exp',
        'S2.6',
        timeTitle,
        'pass',
        `expires at ${isoSeconds(exp)}, in ${exp - nowSeconds} s`,
      );
    }
    // nbf and iat, when present, must not be in the future (beyond the leeway).
    const notInFuture = (
      claim: 'nbf' | 'iat',
      value: number | undefined,
      reason: ClientAuthReason,
    ) => {
      const title = `${claim}, when present, not in the future`;
      if (value !== undefined && value > nowSeconds + leeway) {
        add(
          claim,
          'S2.6',
          title,
          'fail',
          `${claim} ${isoSeconds(value)} is ${value - nowSeconds} s ahead`,
          reason,
        );
      } else {
        add(claim, 'S2.6', title, 'pass', value === undefined ? `no ${claim}` : isoSeconds(value));
      }
    };
    notInFuture('nbf', nbf, 'nbf_in_future');
    notInFuture('iat', iat, 'iat_in_future');
    const windowTitle = `exp at most ${cap} s ahead`;
    if (exp === undefined) {
      skip('exp_window', 'S2.6', windowTitle, 'no usable exp');
    } else if (exp - nowSeconds > cap + leeway) {
      add(
        'exp_window',
        'S2.6',
        windowTitle,
        'fail',
        `exp is ${exp - nowSeconds} s ahead`,
        'exp_too_far',
      );
    } else {
      add('exp_window', 'S2.6', windowTitle, 'pass', `${Math.max(0, exp - nowSeconds)} s ahead`);
    }
    const lifetimeTitle = `exp − iat at most ${cap} s`;
    if (exp === undefined || iat === undefined) {
      add(
        'lifetime',
        'S2.6',
        lifetimeTitle,
        exp === undefined ? 'skipped' : 'pass',
        exp === undefined ? 'no usable exp' : 'no iat',
      );
    } else if (exp - iat > cap) {
      add(
        'lifetime',
        'S2.6',
        lifetimeTitle,
        'fail',
        `exp − iat is ${exp - iat} s`,
        'lifetime_too_long',
      );
    } else {
      add('lifetime', 'S2.6', lifetimeTitle, 'pass', `${exp - iat} s`);
    }
    const jti = claims.jti;
    const jtiOk = typeof jti === 'string' && jti !== '';
    add(
      'jti',
      'S2.7',
      'jti present',
      jtiOk ? 'pass' : 'fail',
      jtiOk ? `${jti.length} characters` : 'no jti',
      jtiOk ? undefined : 'jti_missing',
    );
    add(
      'replay',
      'S2.7',
      'jti not used before',
      'not_checked',
      `not checked (offline): the server accepts each jti once, until exp + ${leeway} s`,
    );
    return { claimsVerified };
  }

  /** SPEC S2.5 key selection and signature check, as `verifyClientAssertion` does them. */
  async function selectAndVerify(
    registered: RegisteredClient,
    method: AssertionAuthMethod,
    alg: string,
    kid: string | undefined,
    limit: number,
  ): Promise<{ selection: Selection; verifiedWith?: string }> {
    const tryAll = async (candidates: readonly Candidate[]) => {
      for (const candidate of candidates) {
        let key: CryptoKey;
        try {
          key = await candidate.load();
        } catch {
          continue;
        }
        try {
          await compactVerify(assertion, key, { algorithms: [alg] });
          return candidate.label;
        } catch {
          // try the next key
        }
      }
      return undefined;
    };

    if (method === 'client_secret_jwt') {
      let secrets = registered.credentials.filter(
        (c): c is ClientCredential & { secret: string } =>
          c.kind === 'secret' &&
          typeof c.secret === 'string' &&
          c.secret !== '' &&
          credentialState(c, now) === 'active',
      );
      if (secrets.length === 0) {
        const stored = registered.credentials.filter((c) => c.kind === 'secret');
        return {
          selection: {
            reason: 'no_usable_key',
            detail:
              stored.length > 0 && stored.every((c) => c.secret === undefined)
                ? 'the stored secret could not be read (no secret encryption key given)'
                : 'the client has no usable secret',
          },
        };
      }
      if (kid !== undefined && secrets.some((c) => c.kid === kid))
        secrets = secrets.filter((c) => c.kid === kid);
      const minBytes = minimumHmacSecretBytes(alg);
      const strong = secrets.filter((c) => Buffer.byteLength(c.secret, 'utf8') >= minBytes);
      if (strong.length === 0) {
        return {
          selection: {
            reason: 'no_usable_key',
            detail: `the client secret is shorter than ${minBytes} bytes, too short for ${alg}`,
          },
        };
      }
      const candidates = strong.slice(0, limit).map((c, i) => ({
        label: c.kid !== undefined ? `secret ${quote(c.kid)}` : `secret #${i + 1}`,
        load: () => importHmacKey(c, c.secret, alg),
      }));
      const selection = { candidates, detail: `${candidates.length} usable secret(s) for ${alg}` };
      return { selection, verifiedWith: await tryAll(candidates) };
    }

    const pick = (
      entries: readonly { kid?: string; jwk: JWK; credentialAlg?: string; state: string }[],
      source: string,
    ): Selection => {
      const usable = entries.filter((entry) => entry.state === 'active');
      const fits = (entry: { jwk: JWK; credentialAlg?: string }) =>
        (entry.credentialAlg === undefined || algorithmNamesMatch(entry.credentialAlg, alg)) &&
        jwkFitsAlgorithm(entry.jwk, alg);
      const candidate = (entry: { kid?: string; jwk: JWK }, i: number): Candidate => ({
        label: entry.kid !== undefined ? `kid ${quote(entry.kid)}` : `key #${i + 1}`,
        load: () => importVerificationKey(entry.jwk, alg),
      });
      if (kid !== undefined) {
        const named = usable.filter((entry) => entry.kid === kid);
        if (named.length === 0) {
          const inactive = entries.find((entry) => entry.kid === kid);
          const known = usable.map((entry) => quote(entry.kid ?? '(no kid)')).join(', ') || 'none';
          return {
            reason: 'kid_unknown',
            detail: inactive
              ? `the key with kid ${quote(kid)} is ${inactive.state}`
              : `no ${source} key has kid ${quote(kid)} (usable: ${known})`,
          };
        }
        const fitting = named.filter(fits);
        if (fitting.length === 0) {
          return {
            reason: 'no_usable_key',
            detail: `the key ${quote(kid)} does not fit alg ${alg}`,
          };
        }
        return {
          candidates: fitting.slice(0, limit).map(candidate),
          detail: `${source} key ${quote(kid)} fits ${alg}`,
        };
      }
      const fitting = usable.filter(fits);
      if (fitting.length === 0)
        return { reason: 'no_usable_key', detail: `no ${source} key fits alg ${alg}` };
      const tried = fitting.slice(0, limit);
      return {
        candidates: tried.map(candidate),
        detail: `no kid: ${fitting.length} ${source} key(s) fit ${alg}, ${tried.length} tried`,
      };
    };

    if (registered.jwksUri !== undefined) {
      const uri = registered.jwksUri;
      const fromSnapshot = (snapshot: KeySetSnapshot) =>
        pick(
          snapshot.keys.map((jwk) => ({
            ...(jwk.kid !== undefined && { kid: jwk.kid }),
            jwk,
            state: 'active',
          })),
          'jwks_uri',
        );
      let snapshot: KeySetSnapshot;
      try {
        snapshot = await input.keySets.get(uri);
      } catch (error) {
        const why = error instanceof Error ? error.message : 'fetch failed';
        return {
          selection: {
            reason: 'jwks_unavailable',
            detail: `the jwks_uri key set could not be obtained: ${why}`,
          },
        };
      }
      let refreshed = false;
      const refresh = async (): Promise<KeySetSnapshot | undefined | 'failed'> => {
        refreshed = true;
        try {
          return await input.keySets.refresh(uri);
        } catch {
          return 'failed';
        }
      };
      const unavailable = {
        selection: {
          reason: 'jwks_unavailable',
          detail: 'the jwks_uri key set could not be refreshed',
        },
      } as const;
      let selection = fromSnapshot(snapshot);
      if ('reason' in selection) {
        // S2.5: an unknown kid may mean the client rotated: the server refetches once.
        const fresh = await refresh();
        if (fresh === 'failed') return unavailable;
        if (fresh) selection = fromSnapshot(fresh);
        if ('reason' in selection) return { selection };
      }
      let verifiedWith = await tryAll(selection.candidates);
      if (verifiedWith === undefined && !refreshed) {
        const fresh = await refresh();
        if (fresh === 'failed') return unavailable;
        if (fresh) {
          const retry = fromSnapshot(fresh);
          if (!('reason' in retry)) {
            selection = retry;
            verifiedWith = await tryAll(retry.candidates);
          }
        }
      }
      return { selection, ...(verifiedWith !== undefined && { verifiedWith }) };
    }

    const entries = registered.credentials
      .filter((c) => c.kind === 'public_key' && c.jwk)
      .map((c) => ({
        ...((c.kid ?? c.jwk!.kid) !== undefined && { kid: (c.kid ?? c.jwk!.kid)! }),
        jwk: c.jwk!,
        ...(c.alg !== undefined && { credentialAlg: c.alg }),
        state: credentialState(c, now),
      }));
    const selection = pick(entries, 'registered');
    if ('reason' in selection) return { selection };
    const verifiedWith = await tryAll(selection.candidates);
    return { selection, ...(verifiedWith !== undefined && { verifiedWith }) };
  }

  const verdict = await serverVerdict(input);
  const firstFailure = rules.find((rule) => rule.status === 'fail');
  const consistent = verdict.accepted
    ? firstFailure === undefined
    : firstFailure?.reason === verdict.reason;
  return {
    ...base,
    ...(header && { header }),
    ...(payload && { claims: payload }),
    claimsVerified: rest.claimsVerified,
    rules,
    verdict,
    consistent,
  };
}

/**
 * The verdict of the server's code path: `ClientAuthenticator` over this one registration, with
 * a replay store that accepts every `jti` (replay is not judged offline).
 */
async function serverVerdict(input: ExplainAssertionInput): Promise<ExplainVerdict> {
  const authenticator = new ClientAuthenticator({
    settings: input.settings,
    clientStore: new InMemoryClientStore(input.client ? [input.client] : []),
    replayStore: OFFLINE_REPLAY_STORE,
    keySets: input.keySets,
  });
  try {
    const result = await authenticator.authenticate({
      body: {
        client_id: input.clientId,
        client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
        client_assertion: input.assertion,
      },
      ...(input.endpointUrl !== undefined && { endpointUrl: input.endpointUrl }),
      now: input.now,
    });
    return {
      accepted: true,
      ...(result.assertion && { audienceForm: result.assertion.audienceForm }),
    };
  } catch (error) {
    if (!(error instanceof ClientAuthError)) throw error;
    return {
      accepted: false,
      error: error.error,
      reason: error.reason,
      detail: error.detail,
      description: error.description,
    };
  }
}
