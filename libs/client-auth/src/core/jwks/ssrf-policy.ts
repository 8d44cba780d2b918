import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { JwksFetchError, JwksUriRejectedError } from './jwks-errors.js';

/**
 * What an IP address is, for the `jwks_uri` SSRF policy (SPEC S3, S6). Only `public` addresses
 * may be fetched from, unless the host is allow-listed.
 */
export type AddressClass =
  | 'public'
  /** 127.0.0.0/8, ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3). */
  | 'loopback'
  /** RFC 1918, unique-local fc00::/7 (RFC 4193), site-local fec0::/10 (RFC 3879). */
  | 'private'
  /** 169.254.0.0/16 (RFC 3927), fe80::/10 (RFC 4291 §2.5.6). */
  | 'link_local'
  /** 100.64.0.0/10 shared address space (RFC 6598). */
  | 'cgnat'
  /** 224.0.0.0/4, ff00::/8. */
  | 'multicast'
  /** Special-purpose ranges that are not globally reachable (RFC 6890 and updates). */
  | 'reserved'
  /** 0.0.0.0 and `::`. */
  | 'unspecified'
  /** A cloud metadata service (169.254.169.254, fd00:ec2::254, …). */
  | 'metadata'
  /** 255.255.255.255. */
  | 'broadcast'
  /** 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737), 2001:db8::/32, 3fff::/20. */
  | 'documentation'
  /** Not an IP address. */
  | 'invalid';

/** The SSRF policy: hosts exempted for development and tests (`JWKS_URI_ALLOW_HOSTS`, SPEC S1). */
export interface SsrfPolicy {
  /**
   * Host names or IP literals whose `jwks_uri` may use plain http and any address (metadata
   * services excepted). Compared case-insensitively, without a trailing dot or IPv6 brackets.
   */
  readonly allowHosts?: readonly string[];
}

/** One answer of a {@link JwksResolver}. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (default: `dns.promises.lookup(host, {all: true})`). */
export type JwksResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The default resolver: the system resolver, every address. */
export const systemResolver: JwksResolver = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Upper bound on a `jwks_uri`, as the registry stores it (SPEC S3). */
export const MAX_JWKS_URI_LENGTH = 2048;

// ---------------------------------------------------------------------------------------------
// Address classification

type Rule = readonly [prefix: Uint8Array, bits: number, cls: AddressClass];

function v4Bytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.').map(Number));
}

/** Parses a textual IPv6 address (already checked by `isIP`) into 16 bytes; the zone is dropped. */
function v6Bytes(ip: string): Uint8Array {
  let text = ip.split('%')[0]!;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Trailing dotted quad (RFC 4291 §2.2 form 3) holds the last 32 bits.
    tail.push(...v4Bytes(text.slice(lastColon + 1)));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

function inPrefix(bytes: Uint8Array, prefix: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const take = Math.min(8, bits - i);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[i / 8]! & mask) !== (prefix[i / 8]! & mask)) return false;
  }
  return true;
}

const r4 = (prefix: string, bits: number, cls: AddressClass): Rule => [v4Bytes(prefix), bits, cls];
const r6 = (prefix: string, bits: number, cls: AddressClass): Rule => [v6Bytes(prefix), bits, cls];

/** IPv4 rules, most specific first; anything unmatched is public (RFC 6890 registry). */
const IPV4_RULES: readonly Rule[] = [
  // Cloud metadata endpoints: AWS/GCP/Azure/OCI IMDS, AWS ECS task and EKS pod identity,
  // Alibaba Cloud, Azure WireServer.
  r4('169.254.169.254', 32, 'metadata'),
  r4('169.254.170.2', 32, 'metadata'),
  r4('169.254.170.23', 32, 'metadata'),
  r4('100.100.100.200', 32, 'metadata'),
  r4('168.63.129.16', 32, 'metadata'),
  r4('255.255.255.255', 32, 'broadcast'), // RFC 919
  r4('0.0.0.0', 32, 'unspecified'),
  r4('0.0.0.0', 8, 'reserved'), // "this network", RFC 1122 §3.2.1.3
  r4('10.0.0.0', 8, 'private'), // RFC 1918
  r4('100.64.0.0', 10, 'cgnat'), // RFC 6598
  r4('127.0.0.0', 8, 'loopback'), // RFC 1122
  r4('169.254.0.0', 16, 'link_local'), // RFC 3927
  r4('172.16.0.0', 12, 'private'), // RFC 1918
  r4('192.0.0.0', 24, 'reserved'), // IETF protocol assignments, RFC 6890
  r4('192.0.2.0', 24, 'documentation'), // RFC 5737
  r4('192.88.99.0', 24, 'reserved'), // deprecated 6to4 relay anycast, RFC 7526
  r4('192.168.0.0', 16, 'private'), // RFC 1918
  r4('198.18.0.0', 15, 'reserved'), // benchmarking, RFC 2544
  r4('198.51.100.0', 24, 'documentation'), // RFC 5737
  r4('203.0.113.0', 24, 'documentation'), // RFC 5737
  r4('224.0.0.0', 4, 'multicast'), // RFC 5771
  r4('240.0.0.0', 4, 'reserved'), // RFC 1112 §4
];

function classifyV4(bytes: Uint8Array): AddressClass {
  for (const [prefix, bits, cls] of IPV4_RULES) if (inPrefix(bytes, prefix, bits)) return cls;
  return 'public';
}

function localUseNat64Candidates(b: Uint8Array): Uint8Array[] {
  const zero = (from: number) => b.subarray(from).every((x) => x === 0);
  const candidates = [b.subarray(12)]; // /96
  if (b[8] === 0) {
    if (zero(11)) candidates.push(Uint8Array.of(b[6]!, b[7]!, b[9]!, b[10]!)); // /48
    if (zero(12)) candidates.push(Uint8Array.of(b[7]!, b[9]!, b[10]!, b[11]!)); // /56
    if (zero(13)) candidates.push(b.subarray(9, 13)); // /64
  }
  return candidates;
}

/** IPv6 forms embedding an IPv4 address: the embedded address is what gets classified. */
const EMBEDDED: readonly (readonly [
  prefix: Uint8Array,
  bits: number,
  at: (b: Uint8Array) => Uint8Array[],
])[] = [
  // IPv4-mapped ::ffff:0:0/96 (RFC 4291 §2.5.5.2).
  [v6Bytes('::ffff:0:0'), 96, (b) => [b.subarray(12)]],
  // IPv4-translated ::ffff:0:0:0/96 (RFC 2765 §2.1).
  [v6Bytes('::ffff:0:0:0'), 96, (b) => [b.subarray(12)]],
  // IPv4-compatible ::/96 (RFC 4291 §2.5.5.1, deprecated); `::` and `::1` are handled first.
  [v6Bytes('::'), 96, (b) => [b.subarray(12)]],
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1).
  [v6Bytes('64:ff9b::'), 96, (b) => [b.subarray(12)]],
  // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215): the operator picks the prefix length, so
  // every RFC 6052 §2.2 layout (/48, /56, /64, /96) whose zero bits (octet u, suffix) are zero
  // is a candidate, and the worst candidate decides.
  [v6Bytes('64:ff9b:1::'), 48, localUseNat64Candidates],
  // 6to4 2002::/16 (RFC 3056 §2): the IPv4 address follows the prefix.
  [v6Bytes('2002::'), 16, (b) => [b.subarray(2, 6)]],
  // Teredo 2001::/32 (RFC 4380 §4): the client's IPv4 is the last 32 bits, inverted.
  [v6Bytes('2001::'), 32, (b) => [b.subarray(12).map((x) => ~x & 0xff)]],
];

/** IPv6 rules after the embedded forms, most specific first; outside 2000::/3 is reserved. */
const IPV6_RULES: readonly Rule[] = [
  r6('2001:db8::', 32, 'documentation'), // RFC 3849
  r6('3fff::', 20, 'documentation'), // RFC 9637
  r6('2001::', 23, 'reserved'), // IETF protocol assignments, RFC 2928 / RFC 6890
  r6('2000::', 3, 'public'), // global unicast, RFC 4291 §2.4
  r6('fc00::', 7, 'private'), // unique local, RFC 4193
  r6('fe80::', 10, 'link_local'), // RFC 4291 §2.5.6
  r6('fec0::', 10, 'private'), // site-local, deprecated by RFC 3879
  r6('ff00::', 8, 'multicast'), // RFC 4291 §2.7
];

const IPV6_METADATA = [v6Bytes('fd00:ec2::254'), v6Bytes('fd00:ec2::23')];
const V6_UNSPECIFIED = v6Bytes('::');
const V6_LOOPBACK = v6Bytes('::1');

function classifyV6(bytes: Uint8Array): AddressClass {
  if (inPrefix(bytes, V6_UNSPECIFIED, 128)) return 'unspecified';
  if (inPrefix(bytes, V6_LOOPBACK, 128)) return 'loopback';
  if (IPV6_METADATA.some((m) => inPrefix(bytes, m, 128))) return 'metadata';
  for (const [prefix, bits, extract] of EMBEDDED) {
    if (!inPrefix(bytes, prefix, bits)) continue;
    // The worst class of the candidate embedded addresses decides.
    for (const v4 of extract(bytes)) {
      const cls = classifyV4(v4);
      if (cls !== 'public') return cls;
    }
    return 'public';
  }
  for (const [prefix, bits, cls] of IPV6_RULES) if (inPrefix(bytes, prefix, bits)) return cls;
  return 'reserved';
}

/**
 * Classifies a textual IPv4 or IPv6 address (SPEC S3). IPv6 forms that embed an IPv4 address
 * (IPv4-mapped, -translated, -compatible, NAT64, 6to4, Teredo) are classified by the embedded
 * address, so `::ffff:127.0.0.1` is `loopback`. A zone (`fe80::1%eth0`) is ignored.
 *
 * @example
 * ```ts
 * classifyAddress('10.0.0.1'); // 'private'
 * classifyAddress('64:ff9b::a9fe:a9fe'); // 'metadata'
 * classifyAddress('2606:4700::1111'); // 'public'
 * ```
 */
export function classifyAddress(ip: string): AddressClass {
  const version = typeof ip === 'string' ? isIP(ip) : 0;
  if (version === 4) return classifyV4(v4Bytes(ip));
  if (version === 6) return classifyV6(v6Bytes(ip));
  return 'invalid';
}

// ---------------------------------------------------------------------------------------------
// Host names

/** Cloud metadata host names, refused by name before any resolution (SPEC S3). */
export const METADATA_HOST_NAMES: readonly string[] = Object.freeze([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.internal',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);

/** Lower case, without a trailing dot or IPv6 brackets: the form host names are compared in. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Whether `host` names a cloud metadata service, or a name below one (case-insensitive). */
export function isMetadataHostName(host: string): boolean {
  const h = normalizeHost(host);
  return METADATA_HOST_NAMES.some((name) => h === name || h.endsWith(`.${name}`));
}

/** Whether `host` is on the policy's allow list (SPEC S1 `JWKS_URI_ALLOW_HOSTS`). */
export function isAllowListedHost(host: string, policy: SsrfPolicy): boolean {
  const h = normalizeHost(host);
  return (policy.allowHosts ?? []).some((entry) => normalizeHost(entry) === h);
}

/**
 * Whether a connection to `ip` for `host` is allowed (SPEC S3, S6): allow-listed hosts may use
 * any address but a metadata service's; every other host only `public` addresses.
 */
export function isAllowedAddress(ip: string, host: string, policy: SsrfPolicy): boolean {
  const cls = classifyAddress(ip);
  if (cls === 'invalid' || cls === 'metadata') return false;
  return cls === 'public' || isAllowListedHost(host, policy);
}

// ---------------------------------------------------------------------------------------------
// URI admission

/** The host of the authority as written, before WHATWG normalisation. */
function rawHost(uri: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:[/\\]*([^/\\?#]*)/i.exec(uri);
  if (!match) return undefined;
  const authority = match[1]!.slice(match[1]!.lastIndexOf('@') + 1);
  return authority.startsWith('[')
    ? authority.slice(0, authority.indexOf(']') + 1)
    : authority.replace(/:[^:]*$/, '');
}

function reject(
  reason: ConstructorParameters<typeof JwksUriRejectedError>[0],
  message: string,
  addressClass?: AddressClass,
): JwksUriRejectedError {
  return new JwksUriRejectedError(reason, message, addressClass && { addressClass });
}

/** "a loopback address", "an unspecified address", … */
function describeClass(cls: AddressClass): string {
  if (cls === 'metadata') return 'a cloud metadata address';
  const words = cls.replace('_', '-');
  return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words} address`;
}

/** Refusal of an address: `subject` reads "jwks_uri host h is" or "… resolves to". */
function addressRefusal(subject: string, cls: AddressClass): JwksUriRejectedError {
  const message = `${subject} ${describeClass(cls)}`;
  return cls === 'metadata'
    ? reject('metadata_host', message, cls)
    : reject('address_not_public', `${message}; only public addresses are allowed`, cls);
}

/**
 * Validates the text of a `jwks_uri` (SPEC S3 admission) and returns it parsed:
 * - an absolute `https:` URL (`http:` only for an allow-listed host), at most 2048 characters;
 * - no user name or password, no fragment;
 * - no cloud metadata host name (refused even when allow-listed), no `localhost` name;
 * - an IPv4 literal only in canonical dotted-decimal form (`2130706433`, `0x7f.1`, `0177.0.0.1`,
 *   `127.1` are refused, whatever they normalise to);
 * - an IP literal host is classified at once and must be public unless allow-listed.
 *
 * Host names are resolved and checked later, at connect time ({@link JwksFetcher}) or by
 * {@link admitJwksUri}. Throws {@link JwksUriRejectedError}.
 *
 * @example
 * ```ts
 * const url = checkJwksUri('https://client.example.com/jwks.json', { allowHosts: [] });
 * ```
 */
export function checkJwksUri(uri: string, policy: SsrfPolicy = {}): URL {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > MAX_JWKS_URI_LENGTH) {
    throw reject(
      'invalid_uri',
      `jwks_uri must be a URL of at most ${MAX_JWKS_URI_LENGTH} characters`,
    );
  }
  // WHATWG URL parsing silently drops tabs and newlines and trims spaces: refuse them instead.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(uri)) {
    throw reject('invalid_uri', 'jwks_uri must not contain whitespace or control characters');
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw reject('invalid_uri', 'jwks_uri is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw reject('scheme_not_https', 'jwks_uri must use https');
  }
  const host = normalizeHost(url.hostname);
  if (host === '') throw reject('invalid_uri', 'jwks_uri has no host');
  const allowListed = isAllowListedHost(host, policy);
  // SPEC S3: https only, except for JWKS_URI_ALLOW_HOSTS.
  if (url.protocol === 'http:' && !allowListed) {
    throw reject('scheme_not_https', `jwks_uri ${url.origin} must use https`);
  }
  if (url.username !== '' || url.password !== '') {
    throw reject('credentials_in_uri', 'jwks_uri must not contain credentials');
  }
  if (uri.includes('#')) throw reject('fragment_in_uri', 'jwks_uri must not contain a fragment');
  if (isMetadataHostName(host)) {
    throw reject('metadata_host', `jwks_uri host ${host} is a cloud metadata service`, 'metadata');
  }

  const version = isIP(host);
  if (version === 4 && rawHost(uri)?.toLowerCase() !== host) {
    // WHATWG normalises decimal, octal, hex and short IPv4 forms to dotted quads; the policy
    // classifies the normalised address, and refuses the disguise even when it is public.
    const cls = classifyAddress(host);
    if (cls !== 'public' && !allowListed) throw addressRefusal(`jwks_uri host ${host} is`, cls);
    throw reject(
      'non_canonical_ip',
      `jwks_uri host is an IPv4 address in a non-canonical form (normalised: ${host})`,
    );
  }
  if (version !== 0) {
    const cls = classifyAddress(host);
    if (cls === 'metadata' || (cls !== 'public' && !allowListed)) {
      throw addressRefusal(`jwks_uri host ${url.hostname} is`, cls);
    }
  } else if (!allowListed && (host === 'localhost' || host.endsWith('.localhost'))) {
    // RFC 6761 §6.3: localhost names always resolve to loopback.
    throw reject('address_not_public', `jwks_uri host ${host} is a loopback name`, 'loopback');
  }
  return url;
}

/**
 * Resolves `hostname` and checks every answer (SPEC S3, S6): refused when ANY address is not
 * allowed for the host ({@link isAllowedAddress}). Returns the checked addresses. Refusals do not
 * name the resolved address (no disclosure of internal DNS).
 */
export async function resolveAllowedAddresses(
  hostname: string,
  policy: SsrfPolicy,
  resolver: JwksResolver = systemResolver,
): Promise<ResolvedAddress[]> {
  const host = normalizeHost(hostname);
  if (isMetadataHostName(host)) {
    throw reject('metadata_host', `jwks_uri host ${host} is a cloud metadata service`, 'metadata');
  }
  let answers: ResolvedAddress[];
  try {
    answers = await resolver(host);
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    throw new JwksFetchError(
      'network',
      `jwks_uri host ${host} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`,
      { cause },
    );
  }
  if (!Array.isArray(answers) || answers.length === 0) {
    throw new JwksFetchError('network', `jwks_uri host ${host} has no address`);
  }
  const checked: ResolvedAddress[] = [];
  for (const answer of answers) {
    const address = answer?.address;
    const version = typeof address === 'string' ? isIP(address) : 0;
    if (version === 0) {
      throw new JwksFetchError('network', `jwks_uri host ${host} resolved to a non-address`);
    }
    if (!isAllowedAddress(address, host, policy)) {
      throw addressRefusal(`jwks_uri host ${host} resolves to`, classifyAddress(address));
    }
    checked.push({ address, family: version === 6 ? 6 : 4 });
  }
  return checked;
}

/**
 * Full `jwks_uri` admission for registration (SPEC S3): {@link checkJwksUri}, then the host is
 * resolved and every address checked. The fetch re-resolves and re-checks at connect time, so a
 * name that rebinds after admission is still refused.
 */
export async function admitJwksUri(
  uri: string,
  policy: SsrfPolicy & { readonly resolver?: JwksResolver } = {},
): Promise<URL> {
  const url = checkJwksUri(uri, policy);
  if (isIP(normalizeHost(url.hostname)) === 0) {
    await resolveAllowedAddresses(url.hostname, policy, policy.resolver);
  }
  return url;
}
