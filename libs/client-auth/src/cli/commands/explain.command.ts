import { CLIENT_AUTHENTICATION_DEFAULTS } from '../../core/options.js';
import { JwksCache } from '../../core/jwks/jwks-cache.js';
import type { AudiencePolicy, RegisteredClient } from '../../core/types.js';
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
import {
  defaultSecretKeyFile,
  loadClientFromDatabase,
  parseDatabaseUrl,
  readSecretKeyFile,
} from '../explain/database-client.js';
import { explainClientAssertion } from '../explain/explain-assertion.js';
import { registeredClientFromDocument } from '../explain/registration-document.js';
import { renderExplanation } from '../explain/render-explanation.js';

const POLICIES: readonly AudiencePolicy[] = ['compat', 'strict'];

/** The assertion from `--assertion`: the JWT itself, `@file`, or `-` for stdin. */
async function readAssertion(io: CliIo, value: string): Promise<string> {
  let text: string;
  if (value === '-') {
    if (!io.readStdin) throw new CliUsageError('--assertion -: standard input is not available');
    text = await io.readStdin();
  } else if (value.startsWith('@')) {
    text = await readTextFile(io, value.slice(1), '--assertion');
  } else {
    text = value;
  }
  text = text.trim();
  if (text === '') throw new CliFailure('--assertion: the assertion is empty');
  return text;
}

/**
 * `explain`: every SPEC S2 rule an assertion passes or fails against a registration, with the
 * S2.9 reason codes, and the verdict of the server's own code path (see
 * `explainClientAssertion`). Exit code 0 when the assertion would be accepted, 3 when rejected.
 */
export const explainCommand: CliCommand = {
  spec: {
    name: 'explain',
    summary: 'Explain why a client assertion would be accepted or rejected, rule by rule.',
    synopsis:
      '--assertion <jwt|@file|-> (--client-file <file> | --client <id> --database-url <url>) --issuer <url> [options]',
    description: [
      'Lists every rule of client authentication (SPEC S2.2–S2.8: size and structure, client and ' +
        'method, header and alg, key lookup, signature, iss/sub, aud under the audience policy, ' +
        'exp/nbf/iat and lifetime, jti) with pass or fail and the reason code a failure reports ' +
        '(SPEC S2.9), then the verdict of the same code the token endpoint runs. Replay is not ' +
        'checked (offline). Claims are judged even when the signature fails, marked unverified.',
      'The registration comes from a JSON document (an RFC 7591 registration response, an RFC ' +
        '7592 read, or an admin API client) or, by client id, from the registry database (a ' +
        'PostgreSQL URL or a SQLite file, opened read-only). client_secret_jwt secrets in the ' +
        'database need the secret encryption key: SECRET_ENCRYPTION_KEY, --secret-key-file, or ' +
        'the key file beside an embedded SQLite database.',
      'Exit code: 0 accepted, 3 rejected, 1 error, 2 wrong command line.',
    ],
    options: {
      assertion: {
        type: 'string',
        value: '<jwt|@file|->',
        description: 'the assertion, @file to read it from a file, - for stdin',
      },
      'client-file': {
        type: 'string',
        value: '<file>',
        description: 'registration document (RFC 7591 response or admin API client)',
      },
      client: { type: 'string', value: '<id>', description: 'client id to load from the database' },
      'database-url': {
        type: 'string',
        value: '<url>',
        description: 'postgres://… or a SQLite file (default: DATABASE_URL)',
      },
      'secret-key-file': {
        type: 'string',
        value: '<file>',
        description: 'secret encryption key file (client_secret_jwt in a database)',
      },
      'secret-file': {
        type: 'string',
        value: '<file>',
        description: 'client secret for a client_secret_jwt registration document',
      },
      issuer: {
        type: 'string',
        value: '<url>',
        description: 'the server issuer (default: ISSUER)',
      },
      'token-endpoint': {
        type: 'string',
        value: '<url>',
        description: 'token endpoint URL (default: <issuer>/oauth/token)',
      },
      'endpoint-url': {
        type: 'string',
        value: '<url>',
        description: 'URL the assertion is sent to (default: the token endpoint)',
      },
      policy: {
        type: 'string',
        value: '<compat|strict>',
        description: 'global audience policy (default: AUDIENCE_POLICY or compat)',
      },
      leeway: {
        type: 'string',
        value: '<seconds>',
        description: `clock leeway (default ${CLIENT_AUTHENTICATION_DEFAULTS.clockLeewaySeconds})`,
      },
      'max-lifetime': {
        type: 'string',
        value: '<seconds>',
        description: `assertion lifetime cap (default ${CLIENT_AUTHENTICATION_DEFAULTS.maxAssertionLifetimeSeconds})`,
      },
      now: { type: 'string', value: '<iso>', description: 'judge at this time (default: now)' },
      'allow-host': {
        type: 'string',
        value: '<host>',
        multiple: true,
        description: 'jwks_uri host allowed over http (default: JWKS_URI_ALLOW_HOSTS)',
      },
      json: { type: 'boolean', description: 'print the report as JSON' },
    },
    examples: [
      'nestjs-client-auth explain --assertion @assertion.jwt --client-file registration.json \\\n' +
        '    --issuer https://auth.example.com --policy strict',
      'nestjs-client-auth explain --assertion @assertion.jwt --client billing \\\n' +
        '    --database-url ./data/client-auth.sqlite --issuer http://localhost:3000',
    ],
  },
  async execute(options, io) {
    const env = io.env ?? {};
    const assertionArg = options.required('assertion', ' (the JWT, @file or -)');
    const clientFile = options.string('client-file');
    const clientArg = options.string('client');
    const databaseArg = options.string('database-url');
    if (clientFile !== undefined && databaseArg !== undefined) {
      throw new CliUsageError('use --client-file or --database-url, not both');
    }
    if (clientFile === undefined && clientArg === undefined) {
      throw new CliUsageError(
        'name the registration: --client-file <file>, or --client <id> with --database-url <url>',
      );
    }
    const issuerText = options.string('issuer') ?? env.ISSUER;
    if (issuerText === undefined || issuerText.trim() === '') {
      throw new CliUsageError('--issuer is required (the server issuer identifier, RFC 8414 §2)');
    }
    const issuer = checkUrl(issuerText.trim(), '--issuer');
    const tokenEndpoint = options.url('token-endpoint');
    const endpointUrl = options.url('endpoint-url');
    const envPolicy = env.AUDIENCE_POLICY;
    const policy = options.choice(
      'policy',
      POLICIES,
      envPolicy === 'strict' || envPolicy === 'compat' ? envPolicy : 'compat',
    );
    const leeway = options.integer(
      'leeway',
      CLIENT_AUTHENTICATION_DEFAULTS.clockLeewaySeconds,
      0,
      3600,
    );
    const maxLifetime = options.integer(
      'max-lifetime',
      CLIENT_AUTHENTICATION_DEFAULTS.maxAssertionLifetimeSeconds,
      1,
      86_400,
    );
    const now = options.date('now') ?? new Date();
    const allowHosts = options.has('allow-host')
      ? options.strings('allow-host')
      : (env.JWKS_URI_ALLOW_HOSTS ?? '')
          .split(',')
          .map((host) => host.trim())
          .filter(Boolean);
    const secretPath = options.string('secret-file');
    const secretKeyPath = options.string('secret-key-file');

    const assertion = await readAssertion(io, assertionArg);

    let client: RegisteredClient | undefined;
    let clientId: string;
    if (clientFile !== undefined) {
      const secret =
        secretPath !== undefined
          ? (await readTextFile(io, secretPath, '--secret-file')).replace(/\r?\n$/, '')
          : undefined;
      client = registeredClientFromDocument(
        await readJsonFile(io, clientFile, '--client-file'),
        secret,
      );
      if (clientArg !== undefined && clientArg !== client.clientId) {
        throw new CliUsageError('--client differs from the client_id of --client-file');
      }
      clientId = client.clientId;
    } else {
      if (secretPath !== undefined) {
        throw new CliUsageError(
          '--secret-file applies to --client-file (the database holds the secret)',
        );
      }
      const url = databaseArg ?? env.DATABASE_URL;
      if (url === undefined || url.trim() === '') {
        throw new CliUsageError('--database-url is required with --client (or set DATABASE_URL)');
      }
      const database = parseDatabaseUrl(url.trim(), (path) => resolvePath(io, path));
      const keyFile =
        secretKeyPath !== undefined
          ? resolvePath(io, secretKeyPath)
          : defaultSecretKeyFile(database);
      const secretKey =
        keyFile !== undefined
          ? await readSecretKeyFile(keyFile)
          : env.SECRET_ENCRYPTION_KEY?.trim() || undefined;
      clientId = clientArg!;
      client = await loadClientFromDatabase(database, clientId, secretKey);
    }

    const keySets = new JwksCache({ fetch: { allowHosts } });
    const report = await explainClientAssertion({
      assertion,
      clientId,
      client,
      settings: {
        issuer,
        ...(tokenEndpoint !== undefined && { tokenEndpoint }),
        audiencePolicy: policy,
        clockLeewaySeconds: leeway,
        maxAssertionLifetimeSeconds: maxLifetime,
      },
      endpointUrl: endpointUrl ?? tokenEndpoint ?? `${issuer.replace(/\/+$/, '')}/oauth/token`,
      keySets,
      now,
    });
    io.stdout(
      options.flag('json') ? JSON.stringify(report, null, 2) + '\n' : renderExplanation(report),
    );
    return report.verdict.accepted ? EXIT.ok : EXIT.rejected;
  },
};
