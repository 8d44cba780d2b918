/**
 * The command-line tool (SPEC S10): every command run in-process through `run(argv, io)`, against
 * files in a temporary directory and the reference server on loopback; plus the built entry
 * point spawned once.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  importJWK,
  jwtVerify,
  type JWK,
} from 'jose';
import request from 'supertest';
import { AuthFailureEntity } from 'nestjs-client-auth';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CLI_COMMANDS, run } from '../../libs/client-auth/src/cli/run.js';
import type { AssertionExplanation } from '../../libs/client-auth/src/cli/explain/explain-assertion.js';
import { assertionForm, signAssertion, unsignedAssertion } from '../utils/assertions.js';
import {
  startTestServer,
  TEST_DATABASES,
  TEST_ISSUER,
  TEST_TOKEN_ENDPOINT,
  type TestServer,
} from '../utils/test-server.js';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ISSUER = 'https://as.example.test';
const TOKEN_ENDPOINT = `${ISSUER}/oauth/token`;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'client-auth-cli-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Runs the tool in-process in the work directory, collecting its output. */
async function cli(argv: string[], options: { stdin?: string } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd: work,
    env: {},
    ...(options.stdin !== undefined && { readStdin: async () => options.stdin! }),
  });
  return { code, stdout, stderr };
}

const file = (name: string) => join(work, name);
const readJson = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as unknown;

/** `keys generate` into `<name>.json` (private) and `<name>-jwks.json` (public); returns the JWKS. */
async function generateKey(name: string, alg = 'ES256', kid?: string): Promise<{ keys: JWK[] }> {
  const result = await cli([
    'keys',
    'generate',
    '--alg',
    alg,
    ...(kid ? ['--kid', kid] : []),
    '--out',
    `${name}.json`,
    '--jwks-out',
    `${name}-jwks.json`,
  ]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { keys: JWK[] };
}

async function sign(args: string[]): Promise<string> {
  const result = await cli(['assertion', 'sign', ...args]);
  expect(result).toMatchObject({ code: 0 });
  return result.stdout.trim();
}

describe('cli: commands and help', () => {
  it('prints an overview listing every command with --help, and exits 2 without a command', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of CLI_COMMANDS) expect(help.stdout).toContain(command.spec.name);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Usage: nestjs-client-auth <command>');
  });

  it.each(CLI_COMMANDS.map((command) => command.spec.name))(
    '%s --help shows its synopsis and every option',
    async (name) => {
      const command = CLI_COMMANDS.find((c) => c.spec.name === name)!;
      for (const argv of [
        [...name.split(' '), '--help'],
        ['help', ...name.split(' ')],
      ]) {
        const result = await cli(argv);
        expect(result.code).toBe(0);
        expect(result.stderr).toBe('');
        expect(result.stdout).toMatch(new RegExp(`^Usage: nestjs-client-auth ${name} `));
        for (const option of Object.keys(command.spec.options)) {
          expect(result.stdout).toContain(`--${option}`);
        }
      }
    },
  );

  it('lists the subcommands of a group and prints the version', async () => {
    const keys = await cli(['keys', '--help']);
    expect(keys.code).toBe(0);
    expect(keys.stdout).toContain('keys generate');
    expect(keys.stdout).toContain('keys public');
    expect(keys.stdout).not.toContain('register');
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0 });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses unknown commands and options with exit code 2, never echoing a value', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const option = await cli([
      'register',
      '--initial-acces-token=s3cr3t-t0ken',
      '--server',
      ISSUER,
    ]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('unknown option --initial-acces-token');
    expect(option.stderr).toContain("Run 'nestjs-client-auth register --help'");
    expect(option.stderr).not.toContain('s3cr3t-t0ken');
    const positional = await cli(['explain', 'eyJhbGciOiJub25lIn0.e30.']);
    expect(positional.code).toBe(2);
    expect(positional.stderr).not.toContain('eyJhbGciOiJub25lIn0');
    const twice = await cli(['keys', 'generate', '--alg', 'ES256', '--alg', 'RS256', '--stdout']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--alg given more than once');
  });
});

describe('cli: keys', () => {
  it.each(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'])(
    'generates an %s pair: public JWKS on stdout, private key only in the 0600 file, and they match',
    async (alg) => {
      const name = `gen-${alg}`;
      const result = await cli(['keys', 'generate', '--alg', alg, '--out', `${name}.json`]);
      expect(result.code).toBe(0);
      const jwks = JSON.parse(result.stdout) as { keys: JWK[] };
      expect(jwks.keys).toHaveLength(1);
      const [publicJwk] = jwks.keys as [JWK];
      expect(publicJwk).toMatchObject({ alg, use: 'sig' });
      for (const member of PRIVATE_MEMBERS) expect(publicJwk).not.toHaveProperty(member);
      // Without --kid, the kid is the RFC 7638 thumbprint.
      expect(publicJwk.kid).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));

      expect(statSync(file(`${name}.json`)).mode & 0o777).toBe(0o600);
      const privateJwk = readJson(`${name}.json`) as JWK;
      expect(privateJwk).toMatchObject({ kid: publicJwk.kid, alg, d: expect.any(String) });
      expect(result.stdout).not.toContain(privateJwk.d!);
      expect(result.stderr).not.toContain(privateJwk.d!);

      // The private key signs what the public key verifies.
      const assertion = await sign(['--client-id', 'c1', '--aud', ISSUER, '--key', `${name}.json`]);
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(jwks), { issuer: 'c1' });
      expect(payload.sub).toBe('c1');
    },
  );

  it('requires a destination for the private key and never overwrites a file without --force', async () => {
    const nowhere = await cli(['keys', 'generate', '--alg', 'ES256']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stdout).toBe('');
    expect(nowhere.stderr).toContain('--out <file>');

    await generateKey('keep', 'ES256', 'keep-1');
    const before = readFileSync(file('keep.json'), 'utf8');
    const again = await cli(['keys', 'generate', '--out', 'keep.json']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists');
    expect(readFileSync(file('keep.json'), 'utf8')).toBe(before);
    const forced = await cli(['keys', 'generate', '--out', 'keep.json', '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file('keep.json'), 'utf8')).not.toBe(before);
  });

  it('prints the private key on stdout only with --stdout, before the public JWKS', async () => {
    const result = await cli(['keys', 'generate', '--alg', 'EdDSA', '--kid', 'ed-1', '--stdout']);
    expect(result.code).toBe(0);
    const [privatePart, publicPart] = result.stdout.split('\n\n');
    const privateJwk = JSON.parse(privatePart!) as JWK;
    expect(privateJwk).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: 'ed-1',
      d: expect.any(String),
    });
    const jwks = JSON.parse(publicPart!) as { keys: JWK[] };
    expect(jwks.keys[0]).toMatchObject({ kid: 'ed-1', x: privateJwk.x });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(result.stderr).not.toContain(privateJwk.d!);
  });

  it('writes a PKCS#8 PEM with --pem; keys public derives the same public JWK from it', async () => {
    const generated = await cli([
      'keys',
      'generate',
      '--alg',
      'PS256',
      '--kid',
      'pem-1',
      '--pem',
      '--out',
      'pem-key.pem',
    ]);
    expect(generated.code).toBe(0);
    expect(readFileSync(file('pem-key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(generated.stderr).toContain('--kid pem-1');
    const jwks = JSON.parse(generated.stdout) as { keys: JWK[] };

    const derived = await cli([
      'keys',
      'public',
      '--key',
      'pem-key.pem',
      '--kid',
      'pem-1',
      '--alg',
      'PS256',
    ]);
    expect(derived.code).toBe(0);
    expect((JSON.parse(derived.stdout) as { keys: JWK[] }).keys).toEqual(jwks.keys);

    const assertion = await sign([
      '--client-id',
      'c1',
      '--aud',
      ISSUER,
      '--key',
      'pem-key.pem',
      '--kid',
      'pem-1',
      '--alg',
      'PS256',
    ]);
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'PS256', kid: 'pem-1' });
    await jwtVerify(assertion, createLocalJWKSet(jwks));
  });

  it('keys public drops private members from a JWK file and refuses a non-key file', async () => {
    const jwks = await generateKey('pub', 'ES256', 'pub-1');
    const derived = await cli(['keys', 'public', '--key', 'pub.json']);
    expect(derived.code).toBe(0);
    expect(JSON.parse(derived.stdout)).toEqual(jwks);
    writeFileSync(file('not-a-key.txt'), 'hello');
    const bad = await cli(['keys', 'public', '--key', 'not-a-key.txt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('neither a PEM key nor JSON');
  });
});

describe('cli: assertion sign', () => {
  let jwks: { keys: JWK[] };
  beforeAll(async () => {
    jwks = await generateKey('signer', 'ES256', 'signer-1');
  });

  it('signs with the library signer: iss = sub = client, aud, lifetime, jti, typ and kid', async () => {
    const assertion = await sign([
      '--client-id',
      'billing',
      '--aud',
      ISSUER,
      '--key',
      'signer.json',
      '--lifetime',
      '120',
    ]);
    const { payload, protectedHeader } = await jwtVerify(assertion, createLocalJWKSet(jwks), {
      issuer: 'billing',
      subject: 'billing',
      audience: ISSUER,
      typ: 'client-authentication+jwt',
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'signer-1' });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(typeof payload.jti).toBe('string');
    expect((payload.jti as string).length).toBeGreaterThanOrEqual(22); // ≥ 128 bits
  });

  it('uses the token endpoint as aud on request, drops typ with --typ-off, and honours --now', async () => {
    const assertion = await sign([
      '--client-id',
      'billing',
      '--token-endpoint',
      TOKEN_ENDPOINT,
      '--key',
      'signer.json',
      '--typ-off',
      '--now',
      '2030-01-01T00:00:00Z',
    ]);
    expect(decodeProtectedHeader(assertion)).not.toHaveProperty('typ');
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(jwks), {
      currentDate: new Date('2030-01-01T00:00:30Z'),
    });
    expect(payload).toMatchObject({ aud: TOKEN_ENDPOINT, iat: 1893456000 });
  });

  it('signs client_secret_jwt assertions with a secret file, refusing a short secret', async () => {
    const secret = 'x'.repeat(48);
    writeFileSync(file('secret.txt'), secret + '\n');
    const assertion = await sign([
      '--client-id',
      'hs',
      '--aud',
      ISSUER,
      '--secret-file',
      'secret.txt',
      '--alg',
      'HS384',
    ]);
    expect(decodeProtectedHeader(assertion).alg).toBe('HS384');
    await jwtVerify(assertion, new TextEncoder().encode(secret), { issuer: 'hs' });

    writeFileSync(file('short.txt'), 'tooshort-secret');
    const short = await cli([
      'assertion',
      'sign',
      '--client-id',
      'hs',
      '--aud',
      ISSUER,
      '--secret-file',
      'short.txt',
    ]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('HS256 needs at least 32');
    expect(short.stderr).not.toContain('tooshort-secret');
  });

  it('refuses a missing key, a lifetime above the cap and two audiences forms, with exit 2', async () => {
    const cases = [
      ['--client-id', 'c', '--aud', ISSUER],
      ['--client-id', 'c', '--aud', ISSUER, '--key', 'signer.json', '--lifetime', '301'],
      [
        '--client-id',
        'c',
        '--aud',
        ISSUER,
        '--token-endpoint',
        TOKEN_ENDPOINT,
        '--key',
        'signer.json',
      ],
      ['--aud', ISSUER, '--key', 'signer.json'],
    ];
    for (const args of cases) {
      const result = await cli(['assertion', 'sign', ...args]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
    }
    const missing = await cli([
      'assertion',
      'sign',
      '--client-id',
      'c',
      '--aud',
      ISSUER,
      '--key',
      'nope.json',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--key: cannot read nope.json (no such file)');
  });
});

describe('cli: explain against a registration document', () => {
  const base = (assertion: string, extra: string[] = []) => [
    'explain',
    '--assertion',
    assertion,
    '--client-file',
    'explain-registration.json',
    '--issuer',
    ISSUER,
    ...extra,
  ];
  const explain = async (assertion: string, extra: string[] = []) => {
    const result = await cli([...base(assertion, extra), '--json']);
    return { ...result, report: JSON.parse(result.stdout) as AssertionExplanation };
  };
  const signed = (extra: string[] = [], key = 'explain-key.json') =>
    sign([
      '--client-id',
      'explained',
      '--key',
      key,
      ...(extra.includes('--token-endpoint') ? [] : ['--aud', ISSUER]),
      ...extra,
    ]);

  beforeAll(async () => {
    const jwks = await generateKey('explain-key', 'ES256', 'k1');
    // Same kid, another key: signatures from it must fail.
    await generateKey('impostor-key', 'ES256', 'k1');
    await generateKey('unknown-kid-key', 'ES256', 'k2');
    writeFileSync(
      file('explain-registration.json'),
      JSON.stringify({
        client_id: 'explained',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks,
        grant_types: ['client_credentials'],
      }),
    );
  });

  it('passes a good assertion on every rule, replay reported as not checked (offline)', async () => {
    const assertion = await signed();
    const { code, report, stdout } = await explain(assertion);
    expect(code).toBe(0);
    expect(report.verdict).toEqual({ accepted: true, audienceForm: 'issuer' });
    expect(report.consistent).toBe(true);
    expect(report.claimsVerified).toBe(true);
    const statuses = Object.fromEntries(report.rules.map((rule) => [rule.id, rule.status]));
    expect(statuses.replay).toBe('not_checked');
    expect(report.rules.find((rule) => rule.id === 'replay')!.detail).toContain(
      'not checked (offline)',
    );
    for (const rule of report.rules.filter((r) => r.id !== 'replay'))
      expect(rule.status).toBe('pass');
    for (const id of [
      'size',
      'structure',
      'client',
      'method',
      'alg',
      'header_keys',
      'key',
      'signature',
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'lifetime',
      'jti',
    ]) {
      expect(statuses[id]).toBe('pass');
    }
    // The report never repeats the assertion (its signature is the secret part).
    expect(stdout).not.toContain(assertion.split('.')[2]);

    const text = await cli(base(assertion));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Verdict: ACCEPTED');
    expect(text.stdout).toMatch(/----\s+S2\.7\s+replay\s+.*not checked \(offline\)/);
    expect(text.stdout).not.toContain(assertion);
  });

  const badCases: [string, () => Promise<string>, string[], string, string][] = [
    ['expired', () => signed(['--now', '2020-01-01T00:00:00Z']), [], 'assertion_expired', 'exp'],
    [
      'aimed at the token endpoint under strict',
      () => signed(['--token-endpoint', TOKEN_ENDPOINT]),
      ['--policy', 'strict'],
      'aud_not_issuer',
      'aud',
    ],
    [
      'signed with an unknown kid',
      () => signed([], 'unknown-kid-key.json'),
      [],
      'kid_unknown',
      'key',
    ],
    [
      'with a bad signature',
      () => signed([], 'impostor-key.json'),
      [],
      'signature_invalid',
      'signature',
    ],
    [
      'unsigned (alg none)',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return unsignedAssertion({
          iss: 'explained',
          sub: 'explained',
          aud: ISSUER,
          exp: now + 60,
          jti: 'j1',
        });
      },
      [],
      'alg_not_allowed',
      'alg',
    ],
    [
      'carrying its own key in the header',
      async () => {
        const privateJwk = readJson('explain-key.json') as JWK;
        const { d: _d, ...publicJwk } = privateJwk;
        return signAssertion(
          await importJWK(privateJwk, 'ES256'),
          'ES256',
          { clientId: 'explained', aud: ISSUER },
          { kid: 'k1', extra: { jwk: publicJwk } },
        );
      },
      [],
      'header_key_forbidden',
      'header_keys',
    ],
    ...(['nbf', 'iat'] as const).map(
      (claim): [string, () => Promise<string>, string[], string, string] => [
        `with ${claim} ten minutes ahead`,
        async () =>
          signAssertion(
            await importJWK(readJson('explain-key.json') as JWK, 'ES256'),
            'ES256',
            {
              clientId: 'explained',
              aud: ISSUER,
              [claim]: Math.floor(Date.now() / 1000) + 600,
              exp: Math.floor(Date.now() / 1000) + 660,
            },
            { kid: 'k1' },
          ),
        [],
        `${claim}_in_future`,
        claim,
      ],
    ),
    [
      'with a lifetime above the cap',
      () => signed(['--lifetime', '600', '--max-lifetime', '900']),
      [],
      'exp_too_far',
      'exp_window',
    ],
  ];

  it.each(badCases)(
    'names the reason code for an assertion %s',
    async (_name, make, extra, reason, ruleId) => {
      const assertion = await make();
      const { code, report } = await explain(assertion, extra);
      expect(code).toBe(3);
      expect(report.verdict).toMatchObject({ accepted: false, error: 'invalid_client', reason });
      const failing = report.rules.filter((rule) => rule.status === 'fail');
      expect(failing[0]).toMatchObject({ id: ruleId, reason });
      expect(report.consistent).toBe(true);

      const text = await cli(base(assertion, extra));
      expect(text.code).toBe(3);
      expect(text.stdout).toContain(`Verdict: REJECTED — invalid_client (${reason})`);
      expect(text.stdout).toMatch(new RegExp(`FAIL\\s+S2\\.\\d\\s+${ruleId}\\s+.*${reason}`));
    },
  );

  it('judges the same assertion by the policy: compat accepts the token endpoint, strict does not', async () => {
    const assertion = await signed(['--token-endpoint', TOKEN_ENDPOINT, '--typ-off']);
    const compat = await explain(assertion, ['--policy', 'compat']);
    expect(compat.code).toBe(0);
    expect(compat.report.verdict).toEqual({ accepted: true, audienceForm: 'token_endpoint' });
    const strict = await explain(assertion, ['--policy', 'strict']);
    expect(strict.report.verdict).toMatchObject({ accepted: false, reason: 'aud_not_issuer' });
  });

  it('keeps judging claims after a failed signature, marked unverified', async () => {
    const assertion = await sign([
      '--client-id',
      'explained',
      '--aud',
      'https://elsewhere.example',
      '--key',
      'impostor-key.json',
      '--now',
      '2020-01-01T00:00:00Z',
    ]);
    const { report, code } = await explain(assertion);
    expect(code).toBe(3);
    expect(report.verdict).toMatchObject({
      reason: 'signature_invalid',
      description: 'client authentication failed',
    });
    expect(report.claimsVerified).toBe(false);
    const reasons = report.rules
      .filter((rule) => rule.status === 'fail')
      .map((rule) => rule.reason);
    // typ client-authentication+jwt: aud is always checked strictly (SPEC S2.8).
    expect(reasons).toEqual(['signature_invalid', 'aud_not_issuer', 'assertion_expired']);
    const text = await cli(base(assertion));
    expect(text.stdout).toContain('Claims (unverified');
  });

  it('reads the assertion from a file or stdin, and honours --now and a disabled admin document', async () => {
    const assertion = await signed(['--now', '2020-01-01T00:00:00Z']);
    writeFileSync(file('assertion.jwt'), assertion + '\n');
    const fromFile = await cli([...base('@assertion.jwt'), '--now', '2020-01-01T00:00:10Z']);
    expect(fromFile.code).toBe(0);
    const fromStdin = await cli([...base('-'), '--now', '2020-01-01T00:00:10Z'], {
      stdin: assertion,
    });
    expect(fromStdin.code).toBe(0);

    const registration = readJson('explain-registration.json') as Record<string, unknown>;
    writeFileSync(file('disabled.json'), JSON.stringify({ ...registration, enabled: false }));
    const disabled = await cli([
      'explain',
      '--assertion',
      '@assertion.jwt',
      '--client-file',
      'disabled.json',
      '--issuer',
      ISSUER,
      '--now',
      '2020-01-01T00:00:10Z',
      '--json',
    ]);
    expect(disabled.code).toBe(3);
    expect((JSON.parse(disabled.stdout) as AssertionExplanation).verdict).toMatchObject({
      reason: 'client_disabled',
    });
  });

  it('fetches the keys of a jwks_uri registration, and reports an unreachable key set', async () => {
    const jwks = JSON.parse(readFileSync(file('explain-key-jwks.json'), 'utf8')) as unknown;
    let fetches = 0;
    const jwksServer = createServer((_req, res) => {
      fetches++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
    try {
      writeFileSync(
        file('remote-registration.json'),
        JSON.stringify({
          client_id: 'explained',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: uri,
        }),
      );
      const remote = (assertion: string, extra: string[] = []) =>
        cli([
          'explain',
          '--assertion',
          assertion,
          '--client-file',
          'remote-registration.json',
          '--issuer',
          ISSUER,
          '--json',
          ...extra,
        ]);
      const good = await remote(await signed(), ['--allow-host', '127.0.0.1']);
      expect(good.code).toBe(0);
      expect(fetches).toBeGreaterThan(0);
      const unknownKid = await remote(await signed([], 'unknown-kid-key.json'), [
        '--allow-host',
        '127.0.0.1',
      ]);
      expect((JSON.parse(unknownKid.stdout) as AssertionExplanation).verdict).toMatchObject({
        reason: 'kid_unknown',
      });
      // Without the allow list, plain http on loopback is refused as the server refuses it (SPEC S6).
      const before = fetches;
      const refused = await remote(await signed());
      expect(refused.code).toBe(3);
      const report = JSON.parse(refused.stdout) as AssertionExplanation;
      expect(report.verdict).toMatchObject({ reason: 'jwks_unavailable' });
      expect(report.rules.find((rule) => rule.id === 'key')).toMatchObject({
        status: 'fail',
        reason: 'jwks_unavailable',
      });
      expect(fetches).toBe(before);
    } finally {
      jwksServer.close();
    }
  });

  it('refuses a missing registration or issuer with exit 2', async () => {
    const assertion = await signed();
    expect((await cli(['explain', '--assertion', assertion, '--issuer', ISSUER])).code).toBe(2);
    expect(
      (
        await cli([
          'explain',
          '--assertion',
          assertion,
          '--client-file',
          'explain-registration.json',
        ])
      ).code,
    ).toBe(2);
    const noFile = await cli([
      'explain',
      '--assertion',
      assertion,
      '--client-file',
      'none.json',
      '--issuer',
      ISSUER,
    ]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).not.toContain(assertion);
  });
});

describe.each(TEST_DATABASES)('cli against the reference server on %s', (kind) => {
  const INITIAL_ACCESS_TOKEN = 'iat-cli-0123456789abcdefghijklmnopqrstuvwxyz';
  let server: TestServer;
  let databaseUrl: string;
  const prefix = `srv-${kind}`;

  beforeAll(async () => {
    server = await startTestServer(kind, { INITIAL_ACCESS_TOKEN });
    const database = server.config.database;
    databaseUrl = database.type === 'postgres' ? database.url : database.path;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const tokenRequest = (assertion: string) =>
    request(server.url).post('/oauth/token').type('form').send(assertionForm(assertion));
  const failureRows = () =>
    server.app.get<DataSource>(getDataSourceToken()).getRepository(AuthFailureEntity).count();

  it('registers a private_key_jwt client, signs an assertion and obtains a token with it', async () => {
    await generateKey(`${prefix}-key`, 'ES256', 'reg-1');
    const registered = await cli([
      'register',
      '--server',
      server.url,
      '--initial-access-token',
      INITIAL_ACCESS_TOKEN,
      '--jwks',
      `${prefix}-key-jwks.json`,
      '--name',
      'cli client',
      '--out',
      `${prefix}-registration.json`,
    ]);
    expect(registered.code).toBe(0);
    const response = JSON.parse(registered.stdout) as Record<string, unknown>;
    expect(response).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      client_name: 'cli client',
      registration_access_token: expect.any(String),
    });
    expect(registered.stderr).toContain('store registration_access_token now');
    expect(registered.stderr).not.toContain(INITIAL_ACCESS_TOKEN);
    expect(statSync(file(`${prefix}-registration.json`)).mode & 0o777).toBe(0o600);
    const clientId = response.client_id as string;

    const assertion = await sign([
      '--client-id',
      clientId,
      '--aud',
      TEST_ISSUER,
      '--key',
      `${prefix}-key.json`,
    ]);
    const token = await tokenRequest(assertion);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });

    // explain agrees, from the saved registration response and from the database (read-only).
    const fresh = await sign([
      '--client-id',
      clientId,
      '--aud',
      TEST_ISSUER,
      '--key',
      `${prefix}-key.json`,
    ]);
    const fromFile = await cli([
      'explain',
      '--assertion',
      fresh,
      '--client-file',
      `${prefix}-registration.json`,
      '--issuer',
      TEST_ISSUER,
    ]);
    expect(fromFile.code).toBe(0);
    const fromDatabase = await cli([
      'explain',
      '--assertion',
      fresh,
      '--client',
      clientId,
      '--database-url',
      databaseUrl,
      '--issuer',
      TEST_ISSUER,
      '--json',
    ]);
    expect(fromDatabase.code).toBe(0);
    expect((JSON.parse(fromDatabase.stdout) as AssertionExplanation).verdict.accepted).toBe(true);
    // The assertion explained offline is still unused: the server accepts it once.
    expect((await tokenRequest(fresh)).status).toBe(200);
  }, 30_000);

  it('explains from the database by client id: unknown client, strict policy, and nothing written', async () => {
    await generateKey(`${prefix}-db`, 'RS256', 'db-1');
    const registered = await cli([
      'register',
      '--server',
      server.url,
      '--initial-access-token',
      INITIAL_ACCESS_TOKEN,
      '--jwks',
      `${prefix}-db-jwks.json`,
    ]);
    expect(registered.code).toBe(0);
    const clientId = (JSON.parse(registered.stdout) as { client_id: string }).client_id;
    const assertion = await sign([
      '--client-id',
      clientId,
      '--token-endpoint',
      TEST_TOKEN_ENDPOINT,
      '--key',
      `${prefix}-db.json`,
    ]);
    const rowsBefore = await failureRows();
    const explainDb = async (id: string, extra: string[] = []) => {
      const result = await cli([
        'explain',
        '--assertion',
        assertion,
        '--client',
        id,
        '--database-url',
        databaseUrl,
        '--issuer',
        TEST_ISSUER,
        '--json',
        ...extra,
      ]);
      return { code: result.code, report: JSON.parse(result.stdout) as AssertionExplanation };
    };
    const strict = await explainDb(clientId, ['--policy', 'strict']);
    expect(strict.code).toBe(3);
    expect(strict.report.verdict).toMatchObject({ reason: 'aud_not_issuer' });
    // --client names another client than the assertion: client_id ≠ iss/sub (SPEC S2.3).
    const other = await explainDb('no-such-client');
    expect(other.report.verdict).toMatchObject({ reason: 'client_id_mismatch' });
    // An assertion of a client the registry does not hold.
    const stranger = await sign([
      '--client-id',
      'no-such-client',
      '--aud',
      TEST_ISSUER,
      '--key',
      `${prefix}-db.json`,
    ]);
    const unknown = await cli([
      'explain',
      '--assertion',
      stranger,
      '--client',
      'no-such-client',
      '--database-url',
      databaseUrl,
      '--issuer',
      TEST_ISSUER,
    ]);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toContain('Verdict: REJECTED — invalid_client (client_unknown)');
    expect(unknown.stdout).toMatch(/FAIL\s+S2\.3\s+client\s+.*client_unknown/);
    expect(await failureRows()).toBe(rowsBefore);
  }, 30_000);

  it('registers a client_secret_jwt client and authenticates with the returned secret', async () => {
    const registered = await cli([
      'register',
      '--server',
      server.url,
      '--initial-access-token',
      INITIAL_ACCESS_TOKEN,
      '--method',
      'client_secret_jwt',
    ]);
    expect(registered.code).toBe(0);
    const response = JSON.parse(registered.stdout) as { client_id: string; client_secret: string };
    expect(response.client_secret.length).toBeGreaterThanOrEqual(43);
    expect(registered.stderr).toContain('store client_secret and registration_access_token now');
    writeFileSync(file(`${prefix}-secret.txt`), response.client_secret);
    const assertion = await sign([
      '--client-id',
      response.client_id,
      '--aud',
      TEST_ISSUER,
      '--secret-file',
      `${prefix}-secret.txt`,
    ]);
    expect((await tokenRequest(assertion)).status).toBe(200);

    // The database holds the secret encrypted: explain decrypts it with the server's key.
    const again = await sign([
      '--client-id',
      response.client_id,
      '--aud',
      TEST_ISSUER,
      '--secret-file',
      `${prefix}-secret.txt`,
    ]);
    const keyArgs =
      kind === 'postgres'
        ? (() => {
            writeFileSync(file('pg-secret.key'), 'b'.repeat(64));
            return ['--secret-key-file', 'pg-secret.key'];
          })()
        : []; // SQLite: the key file beside the database is found by itself
    const explained = await cli([
      'explain',
      '--assertion',
      again,
      '--client',
      response.client_id,
      '--database-url',
      databaseUrl,
      '--issuer',
      TEST_ISSUER,
      ...keyArgs,
    ]);
    expect(explained.stdout).toContain('Verdict: ACCEPTED');
    expect(explained.code).toBe(0);
  }, 30_000);

  it('reports a refused registration without echoing the token, and never sends a private key', async () => {
    await generateKey(`${prefix}-refused`, 'ES256', 'refused-1');
    const wrongToken = 'wrong-token-0123456789abcdef';
    const refused = await cli([
      'register',
      '--server',
      server.url,
      '--initial-access-token',
      wrongToken,
      '--jwks',
      `${prefix}-refused-jwks.json`,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/registration refused \(HTTP 401\)/);
    expect(refused.stderr).not.toContain(wrongToken);
    expect(refused.stdout).toBe('');

    const before = (await server.registry.listClients({ limit: 100, offset: 0 })).total;
    const leaking = await cli([
      'register',
      '--server',
      server.url,
      '--initial-access-token',
      INITIAL_ACCESS_TOKEN,
      '--jwks',
      `${prefix}-refused.json`,
    ]);
    expect(leaking.code).toBe(1);
    expect(leaking.stderr).toContain('holds private key material');
    expect((await server.registry.listClients({ limit: 100, offset: 0 })).total).toBe(before);
  }, 30_000);
});

describe('cli: the built entry point', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const candidates = [
    join(root, 'libs/client-auth/dist/cli/main.js'),
    join(root, 'dist/libs/client-auth/src/cli/main.js'),
  ];
  const entry = candidates.find((path) => existsSync(path));
  const test = entry ? it : it.skip;
  test(
    entry
      ? 'runs with node and prints its help'
      : 'runs with node and prints its help (skipped: not built — run `npm run build`)',
    () => {
      const result = spawnSync(process.execPath, [entry!, '--help'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('Usage: nestjs-client-auth <command>');
      const sub = spawnSync(process.execPath, [entry!, 'keys', 'generate'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(sub.status).toBe(2);
      expect(sub.stderr).toContain('--out <file>');
    },
    30_000,
  );
});
