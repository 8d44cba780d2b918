import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { jwkFitsAlgorithm, PRIVATE_KEY_JWT_ALGORITHMS } from '../../core/assertion/algorithms.js';
import type { CliCommand } from '../cli-args.js';
import {
  CliFailure,
  CliUsageError,
  EXIT,
  readTextFile,
  resolvePath,
  type CliIo,
} from '../cli-io.js';

const generate = promisify(generateKeyPair);

/** Key pair parameters per JWS algorithm (RFC 7518 §3.3–3.5, RFC 8037 §3.1). */
function keyTypeFor(
  alg: string,
  bits: number,
):
  | { type: 'rsa'; options: { modulusLength: number } }
  | { type: 'ec'; options: { namedCurve: string } }
  | { type: 'ed25519'; options: Record<string, never> } {
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return { type: 'rsa', options: { modulusLength: bits } };
  const curve = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg];
  if (curve) return { type: 'ec', options: { namedCurve: curve } };
  return { type: 'ed25519', options: {} };
}

/** Members of a JWK that are private or symmetric (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

function publicJwkOf(key: KeyObject): JWK {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  return publicKey.export({ format: 'jwk' }) as JWK;
}

/** Infers the JWS algorithm of a public key: RSA → RS256, EC by curve, Ed25519 → EdDSA. */
function inferAlgorithm(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv!];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/** Writes a file that must not exist yet (unless `force`), with `mode`. */
async function writeNewFile(
  io: CliIo,
  path: string,
  content: string,
  mode: number,
  force: boolean,
  option: string,
): Promise<void> {
  try {
    await writeFile(resolvePath(io, path), content, { mode, flag: force ? 'w' : 'wx' });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new CliFailure(`${option}: ${path} exists (pass --force to overwrite it)`, { cause });
    }
    throw new CliFailure(`${option}: cannot write ${path} (${code ?? 'error'})`, { cause });
  }
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/**
 * `keys generate`: a new key pair for `private_key_jwt`. The public JWK Set goes to stdout (to
 * register with `register --jwks` or serve at a `jwks_uri`); the private key goes only where it
 * is explicitly sent: `--out <file>` (mode 0600, never overwritten without `--force`) or
 * `--stdout`.
 */
export const keysGenerateCommand: CliCommand = {
  spec: {
    name: 'keys generate',
    summary: 'Generate a key pair for private_key_jwt and print its public JWK Set.',
    synopsis: '--alg <alg> (--out <file> | --stdout) [options]',
    description: [
      'The public JWK Set (RFC 7517 §5) is printed on stdout. The private key is written only to ' +
        '--out (created with mode 0600; an existing file is kept unless --force) or, with --stdout, ' +
        'printed on stdout before the JWK Set. It is a private JWK by default, a PKCS#8 PEM with --pem.',
      'Without --kid the kid is the RFC 7638 thumbprint of the public key.',
    ],
    options: {
      alg: {
        type: 'string',
        value: '<alg>',
        description: `${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')} (default ES256)`,
      },
      kid: { type: 'string', value: '<kid>', description: 'key id (default: RFC 7638 thumbprint)' },
      out: { type: 'string', value: '<file>', description: 'write the private key to this file' },
      stdout: { type: 'boolean', description: 'print the private key on stdout instead' },
      pem: { type: 'boolean', description: 'private key as PKCS#8 PEM instead of a JWK' },
      'jwks-out': {
        type: 'string',
        value: '<file>',
        description: 'also write the public JWK Set to this file',
      },
      bits: {
        type: 'string',
        value: '<n>',
        description: 'RSA modulus size, 2048–8192 (default 2048)',
      },
      force: { type: 'boolean', description: 'overwrite existing files' },
    },
    examples: [
      `nestjs-client-auth keys generate --alg ES256 --kid billing-1 --out billing-key.json > billing-jwks.json`,
      `nestjs-client-auth keys generate --alg PS256 --pem --out billing-key.pem --jwks-out billing-jwks.json`,
    ],
  },
  async execute(options, io) {
    const alg = options.choice('alg', PRIVATE_KEY_JWT_ALGORITHMS, 'ES256');
    const out = options.string('out');
    const toStdout = options.flag('stdout');
    if (out !== undefined && toStdout) {
      throw new CliUsageError('choose one place for the private key: --out <file> or --stdout');
    }
    if (out === undefined && !toStdout) {
      throw new CliUsageError(
        'say where the private key goes: --out <file> (recommended) or --stdout',
      );
    }
    const isRsa = /^(RS|PS)/.test(alg);
    if (options.has('bits') && !isRsa)
      throw new CliUsageError('--bits applies to RS* and PS* only');
    const bits = options.integer('bits', 2048, 2048, 8192);
    if (bits % 8 !== 0) throw new CliUsageError('--bits must be a multiple of 8');

    const { type, options: keyOptions } = keyTypeFor(alg, bits);
    const { privateKey, publicKey } = await (
      generate as (
        type: string,
        options: object,
      ) => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>
    )(type, keyOptions);
    const publicMembers = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = options.string('kid') ?? (await calculateJwkThumbprint(publicMembers, 'sha256'));
    const publicJwk: JWK = { ...publicMembers, kid, alg, use: 'sig' };
    const jwks = json({ keys: [publicJwk] });
    const privateText = options.flag('pem')
      ? (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
      : json({ ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg, use: 'sig' });

    const force = options.flag('force');
    const jwksOut = options.string('jwks-out');
    if (out !== undefined) await writeNewFile(io, out, privateText, 0o600, force, '--out');
    if (jwksOut !== undefined) await writeNewFile(io, jwksOut, jwks, 0o644, force, '--jwks-out');

    if (toStdout) io.stdout(privateText.endsWith('\n') ? privateText + '\n' : privateText + '\n\n');
    io.stdout(jwks);
    io.stderr(
      `Generated a key pair (${alg}, kid ${JSON.stringify(kid)}). ` +
        (out !== undefined
          ? `The private key is in ${out} (mode 0600): keep it secret.\n`
          : 'The private key was printed on stdout: keep it secret.\n') +
        (options.flag('pem') ? `A PEM carries no kid: sign with --kid ${kid}.\n` : ''),
    );
    return EXIT.ok;
  },
};

/** Parses a key file given to `keys public`: a PEM, a JWK or a JWK Set (private or public). */
function publicKeysOf(text: string, path: string): JWK[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    try {
      return [publicJwkOf(createPublicKey(trimmed))];
    } catch (cause) {
      throw new CliFailure(`--key: ${path} is neither a PEM key nor JSON`, { cause });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (cause) {
    throw new CliFailure(`--key: ${path} is not valid JSON`, { cause });
  }
  const object = parsed as { keys?: unknown };
  const entries = Array.isArray(object.keys) ? (object.keys as unknown[]) : [parsed];
  return entries.map((entry, index) => {
    const jwk = entry as JWK;
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') {
      throw new CliFailure(`--key: key ${index} of ${path} is not a JWK`);
    }
    if (jwk.kty === 'oct') {
      throw new CliFailure(`--key: key ${index} of ${path} is symmetric and has no public part`);
    }
    const { kid, alg, use, key_ops: _ops, ext: _ext, ...members } = jwk;
    let publicMembers: JWK;
    try {
      const key = PRIVATE_MEMBERS.some((name) => name in members)
        ? createPrivateKey({ key: members as JsonWebKey, format: 'jwk' })
        : createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
      publicMembers = publicJwkOf(key);
    } catch (cause) {
      throw new CliFailure(`--key: key ${index} of ${path} is not a valid JWK`, { cause });
    }
    return {
      ...publicMembers,
      ...(kid !== undefined && { kid }),
      ...(alg !== undefined && { alg }),
      ...(use !== undefined && { use }),
    };
  });
}

/**
 * `keys public`: the public JWK Set of an existing key file (PEM, JWK or JWK Set), with `kid`,
 * `alg` and `use` set, ready for `register --jwks` or a `jwks_uri`. Private members never appear
 * in the output.
 */
export const keysPublicCommand: CliCommand = {
  spec: {
    name: 'keys public',
    summary: 'Print the public JWK Set of an existing key file (PEM, JWK or JWK Set).',
    synopsis: '--key <file> [--kid <kid>] [--alg <alg>]',
    description: [
      'Private members are dropped: the output can be registered or published as it is. A key ' +
        'without a kid gets --kid, else its RFC 7638 thumbprint; without alg it gets --alg, else ' +
        'the algorithm its type implies (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA).',
    ],
    options: {
      key: { type: 'string', value: '<file>', description: 'PEM, JWK or JWK Set file' },
      kid: { type: 'string', value: '<kid>', description: 'kid for a key that has none' },
      alg: { type: 'string', value: '<alg>', description: 'alg for a key that has none' },
    },
    examples: ['nestjs-client-auth keys public --key billing-key.pem --kid billing-1'],
  },
  async execute(options, io) {
    const path = options.required('key');
    const alg = options.string('alg');
    if (alg !== undefined && !PRIVATE_KEY_JWT_ALGORITHMS.includes(alg)) {
      throw new CliUsageError(`--alg must be one of ${PRIVATE_KEY_JWT_ALGORITHMS.join(', ')}`);
    }
    const keys = publicKeysOf(await readTextFile(io, path, '--key'), path);
    if (options.has('kid') && keys.length > 1) {
      throw new CliUsageError('--kid applies to a file holding one key');
    }
    const out: JWK[] = [];
    for (const [index, jwk] of keys.entries()) {
      const keyAlg = jwk.alg ?? alg ?? inferAlgorithm(jwk);
      if (keyAlg === undefined || !jwkFitsAlgorithm({ ...jwk, alg: keyAlg }, keyAlg)) {
        throw new CliFailure(
          `--key: key ${index} of ${path} cannot sign ${keyAlg ?? 'any supported algorithm'} ` +
            '(RFC 7518 §3; RSA needs 2048 bits or more)',
        );
      }
      const kid = jwk.kid ?? options.string('kid') ?? (await calculateJwkThumbprint(jwk, 'sha256'));
      out.push({ ...jwk, kid, alg: keyAlg, use: jwk.use ?? 'sig' });
    }
    io.stdout(json({ keys: out }));
    return EXIT.ok;
  },
};
