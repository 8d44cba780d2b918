import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

/** Options of {@link startProtectedApi}. */
export interface ProtectedApiOptions {
  /** Issuer the access tokens must come from. */
  readonly issuer: string;
  /** The issuer's JWKS URL (the reference server's `/oauth/jwks`). */
  readonly jwksUrl: string;
  /** Required `aud`. Default: the issuer (the reference server's default audience). */
  readonly audience?: string;
  /** Scope the route requires. */
  readonly requiredScope?: string;
  /** Port. Default: an ephemeral one. */
  readonly port?: number;
  /** Lets a test refuse a token after the fact (as a revocation would). */
  readonly isRevoked?: (payload: JWTPayload) => boolean;
}

/** A running protected API. */
export interface ProtectedApi {
  readonly url: string;
  /** `Authorization` headers received, in order. */
  readonly authorizations: (string | undefined)[];
  close(): Promise<void>;
}

function answer(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A tiny resource server for the example: `GET /reports/daily` requires an RFC 9068 access token
 * (`typ: at+jwt`) from `issuer`, verified against its JWKS, with `aud` and scope checked;
 * anything else answers 401 `invalid_token` / 403 `insufficient_scope` (RFC 6750 §3.1).
 */
export async function startProtectedApi(options: ProtectedApiOptions): Promise<ProtectedApi> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
  const authorizations: (string | undefined)[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    authorizations.push(req.headers.authorization);
    if (req.method !== 'GET' || req.url !== '/reports/daily')
      return answer(res, 404, { error: 'not_found' });
    const token = /^Bearer ([\w.~+/-]+=*)$/.exec(req.headers.authorization ?? '')?.[1];
    let payload: JWTPayload;
    try {
      if (!token) throw new Error('no bearer token');
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: options.issuer,
        audience: options.audience ?? options.issuer,
        typ: 'at+jwt',
      }));
      if (options.isRevoked?.(payload)) throw new Error('revoked');
    } catch {
      return answer(
        res,
        401,
        { error: 'invalid_token' },
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (options.requiredScope && !scopes.includes(options.requiredScope)) {
      return answer(
        res,
        403,
        { error: 'insufficient_scope' },
        {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${options.requiredScope}"`,
        },
      );
    }
    answer(res, 200, { report: 'daily', client: payload.client_id, scope: payload.scope });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => answer(res, 500, { error: 'server_error' }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
