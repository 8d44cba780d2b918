import { writeFile } from 'node:fs/promises';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../../core/assertion/algorithms.js';
import { DiscoveryError } from '../../core/outgoing/outgoing-errors.js';
import { discoverAuthorizationServer } from '../../core/token-client/discovery.js';
import {
  isTimeoutError,
  readBodyCapped,
  timeoutSignal,
  urlProblem,
} from '../../core/token-client/http.js';
import type { TokenEndpointAuthMethod } from '../../core/types.js';
import { checkUrl, type CliCommand } from '../cli-args.js';
import {
  CliFailure,
  CliUsageError,
  EXIT,
  readJsonFile,
  readTextFile,
  resolvePath,
  type CliIo,
} from '../cli-io.js';

/** Methods a client may register with (RFC 7591 §2; `none` is not offered here). */
const METHODS: readonly TokenEndpointAuthMethod[] = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
];

/** JWK members that are private or symmetric key material (RFC 7518 §6, RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Largest registration response read, in bytes. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** A server-supplied text fit for the terminal: no control characters, bounded. */
function printable(text: unknown): string {
  const value = typeof text === 'string' ? text : (JSON.stringify(text) ?? '');
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

/** The public JWK Set of `--jwks`, refusing a file that holds private key material. */
async function readPublicJwks(io: CliIo, path: string): Promise<{ keys: unknown[] }> {
  const parsed = (await readJsonFile(io, path, '--jwks')) as { keys?: unknown; kty?: unknown };
  // A single JWK is accepted as a set of one.
  const document =
    typeof parsed === 'object' && parsed !== null && typeof parsed.kty === 'string'
      ? { keys: [parsed] }
      : parsed;
  if (typeof document !== 'object' || document === null || !Array.isArray(document.keys)) {
    throw new CliFailure(`--jwks: ${path} is not a JWK Set (an object with a "keys" array)`);
  }
  const leaking = document.keys.findIndex(
    (key) =>
      typeof key === 'object' &&
      key !== null &&
      PRIVATE_MEMBERS.some((member) => member in (key as object)),
  );
  if (leaking >= 0) {
    throw new CliFailure(
      `--jwks: key ${leaking} of ${path} holds private key material; register the public JWK Set ` +
        '(printed by keys generate, or derived with keys public)',
    );
  }
  return { keys: document.keys };
}

/** The initial access token: `--initial-access-token`, its file, or `INITIAL_ACCESS_TOKEN`. */
async function initialAccessToken(
  io: CliIo,
  inline: string | undefined,
  file: string | undefined,
): Promise<string | undefined> {
  if (inline !== undefined && file !== undefined) {
    throw new CliUsageError('give --initial-access-token or --initial-access-token-file, not both');
  }
  const token =
    file !== undefined
      ? (await readTextFile(io, file, '--initial-access-token-file')).trim()
      : (inline ?? io.env?.INITIAL_ACCESS_TOKEN)?.trim();
  if (token === undefined || token === '') return undefined;
  // RFC 6750 §2.1: b64token characters only; also keeps the header well-formed.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new CliUsageError('the initial access token is not a valid bearer token (RFC 6750 §2.1)');
  }
  return token;
}

/**
 * Finds the registration endpoint: RFC 8414 / OpenID discovery at `server`, else the library's
 * own path `<server>/oauth/register` (the reference server's metadata names its configured
 * issuer, which need not be the address used here).
 */
async function registrationEndpoint(
  io: CliIo,
  server: string,
  allowInsecureHttp: boolean,
  timeoutMs: number,
): Promise<string> {
  const fallback = `${server.replace(/\/+$/, '')}/oauth/register`;
  try {
    const metadata = await discoverAuthorizationServer(server.replace(/\/+$/, ''), {
      allowInsecureHttp,
      timeoutMs,
    });
    const endpoint = metadata.registration_endpoint;
    if (typeof endpoint === 'string' && urlProblem(endpoint, allowInsecureHttp) === undefined) {
      return endpoint;
    }
    io.stderr(
      `note: the server metadata names no usable registration_endpoint; using ${fallback}\n`,
    );
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    io.stderr(`note: no usable discovery document at ${server}; using ${fallback}\n`);
  }
  return fallback;
}

/**
 * `register`: RFC 7591 dynamic client registration against a server, with an initial access
 * token. Prints the response; its `client_secret` and `registration_access_token` are shown once
 * by the server, so stderr says to store them.
 */
export const registerCommand: CliCommand = {
  spec: {
    name: 'register',
    summary: 'Register a client with a server (RFC 7591 dynamic client registration).',
    synopsis:
      '--server <url> (--jwks <file> | --jwks-uri <url> | --method <method>) [--initial-access-token <token>] [options]',
    description: [
      'Sends POST <registration endpoint> with the metadata as JSON and the initial access token ' +
        'as a bearer token (RFC 7591 §3). The endpoint is --registration-endpoint, else the ' +
        "registration_endpoint of the server's metadata (RFC 8414), else <server>/oauth/register.",
      '--jwks or --jwks-uri registers private_key_jwt (the JWK Set must be public: keys generate ' +
        'prints one); --method client_secret_jwt, client_secret_basic or client_secret_post ' +
        'registers a secret, which the server generates and returns once.',
      'The response is printed on stdout (and written to --out, mode 0600). It holds the ' +
        'registration access token and any client secret: the server never shows them again.',
      'The initial access token comes from --initial-access-token, --initial-access-token-file ' +
        'or INITIAL_ACCESS_TOKEN. Plain http is refused except to loopback (--allow-insecure-http).',
    ],
    options: {
      server: { type: 'string', value: '<url>', description: 'the authorization server base URL' },
      'registration-endpoint': {
        type: 'string',
        value: '<url>',
        description: 'registration endpoint (default: discovered)',
      },
      'initial-access-token': {
        type: 'string',
        value: '<token>',
        description: 'bearer token for registration (default: INITIAL_ACCESS_TOKEN)',
      },
      'initial-access-token-file': {
        type: 'string',
        value: '<file>',
        description: 'read the initial access token from a file',
      },
      jwks: { type: 'string', value: '<file>', description: 'public JWK Set (private_key_jwt)' },
      'jwks-uri': {
        type: 'string',
        value: '<url>',
        description: 'URL of the public JWK Set (private_key_jwt)',
      },
      method: {
        type: 'string',
        value: '<method>',
        description: `token_endpoint_auth_method: ${METHODS.join(', ')}`,
      },
      'signing-alg': {
        type: 'string',
        value: '<alg>',
        description: 'token_endpoint_auth_signing_alg (the only alg then accepted)',
      },
      name: { type: 'string', value: '<name>', description: 'client_name' },
      scope: { type: 'string', value: '<scope>', description: 'scope (space-separated)' },
      'grant-type': {
        type: 'string',
        value: '<type>',
        multiple: true,
        description: 'grant_types (default: client_credentials)',
      },
      contact: { type: 'string', value: '<email>', multiple: true, description: 'contacts' },
      metadata: {
        type: 'string',
        value: '<file>',
        description: 'further metadata members, as a JSON object',
      },
      out: { type: 'string', value: '<file>', description: 'also write the response (mode 0600)' },
      force: { type: 'boolean', description: 'overwrite --out' },
      'allow-insecure-http': {
        type: 'boolean',
        description: 'allow plain http to a non-loopback host',
      },
      timeout: { type: 'string', value: '<seconds>', description: 'per request (default 10)' },
    },
    examples: [
      'nestjs-client-auth register --server https://auth.example.com --jwks billing-jwks.json \\\n' +
        '    --name billing --initial-access-token-file iat.txt --out billing-registration.json',
      'INITIAL_ACCESS_TOKEN=… nestjs-client-auth register --server http://localhost:3000 --method client_secret_jwt',
    ],
  },
  async execute(options, io) {
    const server = options.url('server');
    const explicitEndpoint = options.url('registration-endpoint');
    if (server === undefined && explicitEndpoint === undefined) {
      throw new CliUsageError('--server <url> is required');
    }
    const jwksPath = options.string('jwks');
    const jwksUri = options.url('jwks-uri');
    const methodArg = options.string('method');
    if (jwksPath !== undefined && jwksUri !== undefined) {
      throw new CliUsageError('--jwks and --jwks-uri are mutually exclusive (RFC 7591 §2)');
    }
    let method: TokenEndpointAuthMethod;
    if (jwksPath !== undefined || jwksUri !== undefined) {
      if (methodArg !== undefined && methodArg !== 'private_key_jwt') {
        throw new CliUsageError('--jwks and --jwks-uri register private_key_jwt; drop --method');
      }
      method = 'private_key_jwt';
    } else if (methodArg !== undefined) {
      method = options.choice('method', METHODS, 'client_secret_basic');
      if (method === 'private_key_jwt') {
        throw new CliUsageError('private_key_jwt needs --jwks <file> or --jwks-uri <url>');
      }
    } else {
      throw new CliUsageError(
        'choose the credential: --jwks <file>, --jwks-uri <url> or --method <method>',
      );
    }
    const signingAlg = options.string('signing-alg');
    if (signingAlg !== undefined) {
      const allowed =
        method === 'client_secret_jwt'
          ? CLIENT_SECRET_JWT_ALGORITHMS
          : method === 'private_key_jwt'
            ? PRIVATE_KEY_JWT_ALGORITHMS
            : [];
      if (!allowed.includes(signingAlg)) {
        throw new CliUsageError(
          allowed.length
            ? `--signing-alg must be one of ${allowed.join(', ')} for ${method}`
            : `--signing-alg applies to private_key_jwt and client_secret_jwt, not ${method}`,
        );
      }
    }
    const allowInsecureHttp = options.flag('allow-insecure-http');
    const timeoutMs = options.integer('timeout', 10, 1, 300) * 1000;
    const token = await initialAccessToken(
      io,
      options.string('initial-access-token'),
      options.string('initial-access-token-file'),
    );
    const out = options.string('out');
    const contacts = options.strings('contact');
    const grantTypes = options.strings('grant-type');
    const extra =
      options.string('metadata') !== undefined
        ? await readJsonFile(io, options.string('metadata')!, '--metadata')
        : {};
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
      throw new CliFailure('--metadata: the file must hold a JSON object');
    }

    const metadata: Record<string, unknown> = {
      ...(extra as Record<string, unknown>),
      token_endpoint_auth_method: method,
      ...(signingAlg !== undefined && { token_endpoint_auth_signing_alg: signingAlg }),
      ...(jwksPath !== undefined && { jwks: await readPublicJwks(io, jwksPath) }),
      ...(jwksUri !== undefined && { jwks_uri: jwksUri }),
      ...(options.string('name') !== undefined && { client_name: options.string('name') }),
      ...(options.string('scope') !== undefined && { scope: options.string('scope') }),
      ...(grantTypes.length > 0 && { grant_types: grantTypes }),
      ...(contacts.length > 0 && { contacts }),
    };
    if (method !== 'private_key_jwt' && ('jwks' in metadata || 'jwks_uri' in metadata)) {
      throw new CliUsageError('--metadata must not carry jwks or jwks_uri for a secret method');
    }

    const endpoint =
      explicitEndpoint ?? (await registrationEndpoint(io, server!, allowInsecureHttp, timeoutMs));
    const problem = urlProblem(endpoint, allowInsecureHttp);
    if (problem) {
      throw new CliFailure(
        `the registration endpoint ${printable(endpoint)} ${problem}` +
          (/plain http/i.test(problem) ? ' (--allow-insecure-http to send it anyway)' : ''),
      );
    }
    checkUrl(endpoint, 'the registration endpoint');

    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(metadata),
        // A redirect would carry the bearer token elsewhere: never followed.
        redirect: 'manual',
        signal: timeoutSignal(timeoutMs),
      });
    } catch (cause) {
      throw new CliFailure(
        `cannot reach ${endpoint}: ${isTimeoutError(cause) ? 'timed out' : 'connection failed'}`,
        { cause },
      );
    }
    let text: string;
    try {
      text = await readBodyCapped(response, MAX_RESPONSE_BYTES);
    } catch (cause) {
      throw new CliFailure(`the response of ${endpoint} could not be read`, { cause });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (response.status !== 201 && response.status !== 200) {
      const error = body as { error?: unknown; error_description?: unknown } | undefined;
      const detail =
        error && typeof error.error === 'string'
          ? `${printable(error.error)}${error.error_description !== undefined ? `: ${printable(error.error_description)}` : ''}`
          : 'no OAuth error in the response';
      throw new CliFailure(`registration refused (HTTP ${response.status}): ${detail}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new CliFailure(
        `the registration response (HTTP ${response.status}) is not a JSON object`,
      );
    }
    const registration = body as Record<string, unknown>;
    const document = JSON.stringify(registration, null, 2) + '\n';
    if (out !== undefined) {
      try {
        await writeFile(resolvePath(io, out), document, {
          mode: 0o600,
          flag: options.flag('force') ? 'w' : 'wx',
        });
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        // The registration succeeded: the response still goes to stdout below.
        io.stderr(
          `warning: --out: cannot write ${out} (${code === 'EEXIST' ? 'exists; --force overwrites' : (code ?? 'error')})\n`,
        );
      }
    }
    io.stdout(document);
    const once = ['client_secret', 'registration_access_token'].filter(
      (name) => typeof registration[name] === 'string',
    );
    io.stderr(
      `Registered client ${printable(registration.client_id)} (${printable(registration.token_endpoint_auth_method ?? method)}).\n` +
        (once.length
          ? `warning: store ${once.join(' and ')} now, in a secret store: the server shows ${once.length > 1 ? 'them' : 'it'} only once.\n`
          : ''),
    );
    return EXIT.ok;
  },
};
