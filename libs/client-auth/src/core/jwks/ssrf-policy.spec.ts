import { describe, it, expect } from '@jest/globals';
import { JwksFetchError, JwksUriRejectedError } from './jwks-errors.js';
import {
  admitJwksUri,
  checkJwksUri,
  classifyAddress,
  isAllowedAddress,
  isMetadataHostName,
  resolveAllowedAddresses,
  type AddressClass,
  type JwksResolver,
} from './ssrf-policy.js';

/** A resolver answering from a table, recording each lookup. */
function scripted(table: Record<string, string[]>): JwksResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return answers.map((address) => ({
      address,
      family: (address.includes(':') ? 6 : 4) as 4 | 6,
    }));
  };
  return Object.assign(resolver, { calls });
}

function rejection(fn: () => unknown): JwksUriRejectedError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JwksUriRejectedError);
    return error as JwksUriRejectedError;
  }
  throw new Error('expected a rejection');
}

describe('classifyAddress', () => {
  it.each<[string, AddressClass]>([
    // IPv4 special-purpose ranges
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.1.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    // IPv6 special-purpose ranges
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['100::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['2606:4700::1111', 'public'],
    ['2a00:1450:4001::200e', 'public'],
    // IPv4-mapped, -translated and -compatible forms classify the embedded address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['::a00:1', 'private'],
    ['::0.0.0.2', 'reserved'],
    // NAT64 well-known and local-use prefixes
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::a00:1', 'private'],
    ['64:ff9b:1::808:808', 'public'],
    ['64:ff9b:1:a00:0:100::', 'unspecified'], // /48 layout of 10.0.0.1: refused either way
    // 6to4 carries the IPv4 address after 2002::/16
    ['2002:7f00:0001::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:c0a8:0101::1', 'private'],
    ['2002:0808:0808::1', 'public'],
    // Teredo: the client address is the last 32 bits, inverted (10.0.0.1 → f5ff:fffe)
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public'],
    // not addresses
    ['localhost', 'invalid'],
    ['01.2.3.4', 'invalid'],
    ['', 'invalid'],
  ])('%s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });
});

describe('isMetadataHostName', () => {
  it.each([
    ['metadata.google.internal', true],
    ['METADATA.Google.Internal.', true],
    ['metadata', true],
    ['metadata.goog', true],
    ['instance-data', true],
    ['x.metadata.google.internal', true],
    ['metadata.example.com', false],
    ['example.com', false],
  ])('%s → %s', (host, expected) => {
    expect(isMetadataHostName(host)).toBe(expected);
  });
});

describe('isAllowedAddress', () => {
  const policy = { allowHosts: ['jwks.dev.test', '127.0.0.1'] };
  it.each([
    ['8.8.8.8', 'client.example.com', true],
    ['10.0.0.1', 'client.example.com', false],
    ['::ffff:127.0.0.1', 'client.example.com', false],
    ['10.0.0.1', 'jwks.dev.test', true],
    ['127.0.0.1', 'JWKS.DEV.TEST.', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['169.254.169.254', 'jwks.dev.test', false],
    ['not-an-ip', 'jwks.dev.test', false],
  ])('%s for %s → %s', (ip, host, expected) => {
    expect(isAllowedAddress(ip, host, policy)).toBe(expected);
  });
});

describe('checkJwksUri', () => {
  it.each([
    'https://client.example.com/jwks.json',
    'https://client.example.com:8443/.well-known/jwks.json?v=2',
    'https://8.8.8.8/jwks',
    'https://[2606:4700::1111]/jwks',
  ])('accepts %s', (uri) => {
    expect(checkJwksUri(uri, {}).href).toBe(new URL(uri).href);
  });

  it.each([
    ['http://client.example.com/jwks', 'scheme_not_https'],
    ['ftp://client.example.com/jwks', 'scheme_not_https'],
    ['file:///etc/passwd', 'scheme_not_https'],
    ['https://user:pass@client.example.com/jwks', 'credentials_in_uri'],
    ['https://user@client.example.com/jwks', 'credentials_in_uri'],
    ['https://client.example.com/jwks#keys', 'fragment_in_uri'],
    ['https://client.example.com/jwks#', 'fragment_in_uri'],
    ['http://2130706433/', 'scheme_not_https'],
    ['https://2130706433/', 'address_not_public'],
    ['https://0x7f.1/', 'address_not_public'],
    ['https://0177.0.0.1/', 'address_not_public'],
    ['https://127.1/', 'address_not_public'],
    ['https://134744072/', 'non_canonical_ip'], // 8.8.8.8 in decimal
    ['https://0x08.0x08.0x08.0x08/', 'non_canonical_ip'],
    ['https://8.8.8.8./', 'non_canonical_ip'],
    ['https://127.0.0.1/', 'address_not_public'],
    ['https://10.1.2.3/jwks', 'address_not_public'],
    ['https://[::1]/', 'address_not_public'],
    ['https://[::ffff:127.0.0.1]/', 'address_not_public'],
    ['https://[fe80::1]/', 'address_not_public'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'metadata_host'],
    ['https://169.254.169.254/latest/meta-data/', 'metadata_host'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'metadata_host'],
    ['https://METADATA.GOOGLE.INTERNAL./', 'metadata_host'],
    ['https://metadata/', 'metadata_host'],
    ['https://localhost/jwks', 'address_not_public'],
    ['https://app.localhost/jwks', 'address_not_public'],
    ['not a url', 'invalid_uri'],
    ['/relative/jwks', 'invalid_uri'],
    ['https://client.example.com/jw\nks', 'invalid_uri'],
  ])('refuses %j (%s)', (uri, reason) => {
    const error = rejection(() => checkJwksUri(uri, {}));
    expect(error.reason).toBe(reason);
    expect(error).toBeInstanceOf(JwksFetchError);
  });

  it('refuses a URI longer than 2048 characters', () => {
    const uri = `https://client.example.com/${'a'.repeat(2048)}`;
    expect(rejection(() => checkJwksUri(uri, {})).reason).toBe('invalid_uri');
  });

  it('names the cause without echoing credentials', () => {
    const error = rejection(() => checkJwksUri('https://alice:s3cr3t@client.example.com/', {}));
    expect(error.message).toMatch(/credentials/);
    expect(error.message).not.toContain('s3cr3t');
    expect(rejection(() => checkJwksUri('https://127.0.0.1/', {})).message).toBe(
      'jwks_uri host 127.0.0.1 is a loopback address; only public addresses are allowed',
    );
  });

  it.each([
    ['http://localhost:3000/jwks', ['localhost']],
    ['http://127.0.0.1:8080/jwks', ['127.0.0.1']],
    ['http://[::1]:8080/jwks', ['::1']],
    ['http://[::1]:8080/jwks', ['[::1]']],
    ['https://jwks.internal.test/jwks', ['JWKS.internal.test.']],
  ])('allows %s when %j is allow-listed', (uri, allowHosts) => {
    expect(checkJwksUri(uri, { allowHosts }).href).toBe(new URL(uri).href);
  });

  it.each([
    ['http://metadata.google.internal/', ['metadata.google.internal'], 'metadata_host'],
    ['http://169.254.169.254/', ['169.254.169.254'], 'metadata_host'],
    ['http://127.1/', ['127.0.0.1'], 'non_canonical_ip'],
    ['http://u:p@localhost/', ['localhost'], 'credentials_in_uri'],
    ['http://other.test/', ['localhost'], 'scheme_not_https'],
  ])('still refuses %s with %j allow-listed (%s)', (uri, allowHosts, reason) => {
    expect(rejection(() => checkJwksUri(uri, { allowHosts })).reason).toBe(reason);
  });
});

describe('resolveAllowedAddresses / admitJwksUri', () => {
  it('returns the checked answers of a public name', async () => {
    const resolver = scripted({ 'client.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    await expect(resolveAllowedAddresses('client.example.com', {}, resolver)).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });

  it.each([
    [['10.0.0.1'], 'address_not_public'],
    [['93.184.216.34', '127.0.0.1'], 'address_not_public'],
    [['::ffff:127.0.0.1'], 'address_not_public'],
    [['fe80::1'], 'address_not_public'],
    [['169.254.169.254'], 'metadata_host'],
    [['64:ff9b::a9fe:a9fe'], 'metadata_host'],
  ])('refuses a name resolving to %j (%s) without naming the address', async (answers, reason) => {
    const resolver = scripted({ 'evil.example.com': answers });
    const error = await resolveAllowedAddresses('evil.example.com', {}, resolver).catch((e) => e);
    expect(error).toBeInstanceOf(JwksUriRejectedError);
    expect(error.reason).toBe(reason);
    expect(error.message).toContain('evil.example.com');
    for (const address of answers) expect(error.message).not.toContain(address);
  });

  it('allows any non-metadata address for an allow-listed name', async () => {
    const resolver = scripted({ 'jwks.dev.test': ['10.0.0.1', '::1'] });
    const policy = { allowHosts: ['jwks.dev.test'] };
    await expect(resolveAllowedAddresses('jwks.dev.test', policy, resolver)).resolves.toHaveLength(
      2,
    );
  });

  it.each<[Record<string, string[]>, string]>([
    [{}, 'no answer'],
    [{ 'x.example.com': [] }, 'an empty answer'],
    [{ 'x.example.com': ['not-an-ip'] }, 'a non-address'],
  ])('answers network for %j (%s)', async (table) => {
    const error = await resolveAllowedAddresses('x.example.com', {}, scripted(table)).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(JwksFetchError);
    expect(error.reason).toBe('network');
  });

  it('refuses metadata names before resolving them', async () => {
    const resolver = scripted({ 'metadata.google.internal': ['93.184.216.34'] });
    await expect(
      resolveAllowedAddresses('metadata.google.internal', {}, resolver),
    ).rejects.toMatchObject({ reason: 'metadata_host' });
    expect(resolver.calls).toEqual([]);
  });

  it('admitJwksUri checks the text, then every resolved address', async () => {
    const resolver = scripted({
      'client.example.com': ['93.184.216.34'],
      'internal.example.com': ['192.168.0.10'],
    });
    await expect(
      admitJwksUri('https://client.example.com/jwks', { resolver }),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      admitJwksUri('https://internal.example.com/jwks', { resolver }),
    ).rejects.toMatchObject({ reason: 'address_not_public', addressClass: 'private' });
    await expect(
      admitJwksUri('http://client.example.com/jwks', { resolver }),
    ).rejects.toMatchObject({ reason: 'scheme_not_https' });
    // IP literals are classified without a lookup.
    await expect(admitJwksUri('https://8.8.8.8/jwks', { resolver })).resolves.toBeInstanceOf(URL);
    expect(resolver.calls).toEqual(['client.example.com', 'internal.example.com']);
  });
});
