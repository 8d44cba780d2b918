import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../../core/assertion/algorithms.js';
import { OutgoingAuthError } from '../../core/outgoing/outgoing-errors.js';
import { parseKeyFile } from '../../core/signing/file-signing-key.js';
import {
  DEFAULT_ASSERTION_LIFETIME_SECONDS,
  DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS,
  signClientAssertion,
} from '../../core/signing/sign-client-assertion.js';
import {
  importSecretSigningKey,
  type AssertionSigningKey,
} from '../../core/signing/signing-key.js';
import { checkUrl, type CliCommand } from '../cli-args.js';
import { CliFailure, CliUsageError, EXIT, readTextFile } from '../cli-io.js';

/**
 * `assertion sign`: an RFC 7523 client assertion signed by the library's signer
 * (`signClientAssertion`, SPEC S7), printed on stdout for a test request. The assertion is a
 * bearer credential for its lifetime: it goes to stdout only, never to stderr or an error.
 */
export const assertionSignCommand: CliCommand = {
  spec: {
    name: 'assertion sign',
    summary: 'Sign a client assertion (RFC 7523) for a test token request.',
    synopsis:
      '--client-id <id> (--aud <issuer> | --token-endpoint <url>) (--key <file> | --secret-file <file>) [options]',
    description: [
      'Claims: iss = sub = the client id, aud, iat, exp = iat + lifetime, a random 192-bit jti ' +
        '(RFC 7523 §3). Header: alg and kid of the key and typ client-authentication+jwt ' +
        '(draft-ietf-oauth-rfc7523bis) unless --typ-off.',
      'aud is the authorization server issuer identifier (--aud; strict servers accept nothing ' +
        'else) or, for servers that demand it, the token endpoint URL (--token-endpoint).',
      '--key reads a PKCS#8 PEM, a private JWK or a JWK Set (pick the key with --kid); a PEM ' +
        'carries no kid, so pass --kid. --secret-file reads a client secret for client_secret_jwt ' +
        '(HS256 unless --alg).',
    ],
    options: {
      'client-id': { type: 'string', value: '<id>', description: 'client_id (iss and sub)' },
      aud: { type: 'string', value: '<issuer>', multiple: true, description: 'aud: the issuer' },
      'token-endpoint': {
        type: 'string',
        value: '<url>',
        description: 'use the token endpoint URL as aud instead',
      },
      key: { type: 'string', value: '<file>', description: 'private key: PEM, JWK or JWK Set' },
      'secret-file': {
        type: 'string',
        value: '<file>',
        description: 'client secret for client_secret_jwt',
      },
      alg: { type: 'string', value: '<alg>', description: 'algorithm (default: from the key)' },
      kid: { type: 'string', value: '<kid>', description: 'kid (default: from the key)' },
      lifetime: {
        type: 'string',
        value: '<seconds>',
        description: `exp − iat (default ${DEFAULT_ASSERTION_LIFETIME_SECONDS})`,
      },
      'max-lifetime': {
        type: 'string',
        value: '<seconds>',
        description: `the server's lifetime cap (default ${DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS})`,
      },
      'typ-off': { type: 'boolean', description: 'send no typ header (servers before the draft)' },
      jti: { type: 'string', value: '<jti>', description: 'jti (default: 192 random bits)' },
      now: {
        type: 'string',
        value: '<iso>',
        description: 'iat as an ISO date-time (default: now)',
      },
    },
    examples: [
      'nestjs-client-auth assertion sign --client-id billing --aud https://auth.example.com --key billing-key.json',
      'curl -s https://auth.example.com/oauth/token -d grant_type=client_credentials \\\n' +
        '    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\\n' +
        '    -d client_assertion="$(nestjs-client-auth assertion sign --client-id billing \\\n' +
        '        --aud https://auth.example.com --key billing-key.json)"',
    ],
  },
  async execute(options, io) {
    const clientId = options.required('client-id');
    const audiences = options.strings('aud').map((aud) => checkUrlOrIdentifier(aud));
    const tokenEndpoint = options.url('token-endpoint');
    if (audiences.length > 0 && tokenEndpoint !== undefined) {
      throw new CliUsageError('give the audience once: --aud <issuer> or --token-endpoint <url>');
    }
    if (audiences.length === 0 && tokenEndpoint === undefined) {
      throw new CliUsageError('--aud <issuer> (or --token-endpoint <url>) is required');
    }
    const keyPath = options.string('key');
    const secretPath = options.string('secret-file');
    if ((keyPath === undefined) === (secretPath === undefined)) {
      throw new CliUsageError('give exactly one of --key <file> and --secret-file <file>');
    }
    const alg = options.string('alg');
    if (
      alg !== undefined &&
      !PRIVATE_KEY_JWT_ALGORITHMS.includes(alg) &&
      !CLIENT_SECRET_JWT_ALGORITHMS.includes(alg)
    ) {
      throw new CliUsageError(
        `--alg must be one of ${[...PRIVATE_KEY_JWT_ALGORITHMS, ...CLIENT_SECRET_JWT_ALGORITHMS].join(', ')}`,
      );
    }
    const kid = options.string('kid');
    const maxLifetime = options.integer(
      'max-lifetime',
      DEFAULT_MAX_ASSERTION_LIFETIME_SECONDS,
      1,
      86_400,
    );
    const lifetime = options.integer(
      'lifetime',
      Math.min(DEFAULT_ASSERTION_LIFETIME_SECONDS, maxLifetime),
      1,
      86_400,
    );
    if (lifetime > maxLifetime) {
      throw new CliUsageError(
        `--lifetime ${lifetime} exceeds the server's cap of ${maxLifetime} seconds (--max-lifetime); the server would refuse it`,
      );
    }
    const now = options.date('now');
    const jti = options.string('jti');

    let key: AssertionSigningKey;
    try {
      if (keyPath !== undefined) {
        key = parseKeyFile(await readTextFile(io, keyPath, '--key'), {
          ...(alg !== undefined && { alg }),
          ...(kid !== undefined && { kid }),
        });
      } else {
        const secret = (await readTextFile(io, secretPath!, '--secret-file')).replace(/\r?\n$/, '');
        key = importSecretSigningKey(secret, {
          ...(alg !== undefined && { alg }),
          ...(kid !== undefined && { kid }),
        });
      }
    } catch (error) {
      // SigningKeyError messages describe the key's shape, never its content.
      if (error instanceof OutgoingAuthError) {
        throw new CliFailure(
          `${keyPath !== undefined ? '--key' : '--secret-file'}: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    if (kid !== undefined && key.kid !== undefined && key.kid !== kid) {
      throw new CliFailure(
        `--key: the key carries kid ${JSON.stringify(key.kid)}, not ${JSON.stringify(kid)}`,
      );
    }

    let assertion: string;
    try {
      assertion = await signClientAssertion({
        clientId,
        audience: tokenEndpoint !== undefined ? tokenEndpoint : audiences,
        key,
        lifetimeSeconds: lifetime,
        maxLifetimeSeconds: maxLifetime,
        ...(options.flag('typ-off') && { typ: false as const }),
        ...(now !== undefined && { now }),
        ...(jti !== undefined && { jti }),
      });
    } catch (error) {
      if (error instanceof OutgoingAuthError) throw new CliFailure(error.message, { cause: error });
      throw error;
    }
    io.stdout(assertion + '\n');
    io.stderr(
      `Signed an assertion for ${JSON.stringify(clientId)} (${key.alg}` +
        `${key.kid !== undefined ? `, kid ${JSON.stringify(key.kid)}` : ''}), valid ${lifetime} s. ` +
        'It is a credential until it expires: do not share or log it.\n',
    );
    return EXIT.ok;
  },
};

/**
 * An `aud` value: an issuer identifier is a URL (RFC 8414 §2), but RFC 7523 §3 allows any
 * StringOrURI, so a non-URL is accepted as long as it holds no whitespace.
 */
function checkUrlOrIdentifier(value: string): string {
  if (/^https?:/i.test(value)) return checkUrl(value, '--aud');
  if (/\s/.test(value)) throw new CliUsageError('--aud must not contain whitespace');
  return value;
}
