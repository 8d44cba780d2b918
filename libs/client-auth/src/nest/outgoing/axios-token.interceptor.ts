import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import type {
  AccessTokenSource,
  TokenRequest,
} from '../../core/token-client/token-client.types.js';

/** Options of {@link attachTokenClient}. */
export interface AxiosTokenOptions {
  /** Scope, resource or audience of the token to attach (the token client's defaults otherwise). */
  readonly token?: Omit<TokenRequest, 'forceRefresh' | 'signal'>;
  /** On a 401, drop the token and retry once with a new one. Default true. */
  readonly retryOnUnauthorized?: boolean;
}

/** Config members the interceptors keep between the attempt and its retry (string keys survive axios' config merge). */
const USED_TOKEN = 'nestjs-client-auth:token';
const RETRIED = 'nestjs-client-auth:retried';

type MarkedConfig = InternalAxiosRequestConfig & { [USED_TOKEN]?: string; [RETRIED]?: boolean };

function unauthorizedConfig(error: unknown): MarkedConfig | undefined {
  const candidate = error as {
    isAxiosError?: boolean;
    config?: MarkedConfig;
    response?: { status?: number };
  };
  if (candidate?.isAxiosError !== true || candidate.response?.status !== 401) return undefined;
  return candidate.config;
}

/**
 * Makes an axios instance — `HttpService.axiosRef` of `@nestjs/axios` — call protected APIs with
 * a token from `tokens` (SPEC S7): a request interceptor sets `Authorization: Bearer …`
 * (RFC 6750 §2.1), and a response interceptor answers a 401 by dropping that token from the
 * cache and sending the request once more with a new token. Returns a function that removes both
 * interceptors.
 *
 * Request bodies are resent as axios serialised them; a stream body cannot be resent.
 *
 * @example
 * ```ts
 * attachTokenClient(httpService.axiosRef, tokenClient, { token: { scope: 'invoices:read' } });
 * ```
 */
export function attachTokenClient(
  instance: AxiosInstance,
  tokens: AccessTokenSource,
  options: AxiosTokenOptions = {},
): () => void {
  const tokenRequest = options.token ?? {};
  const retry = options.retryOnUnauthorized ?? true;

  const requestInterceptor = instance.interceptors.request.use(async (config) => {
    const token = await tokens.getToken({
      ...tokenRequest,
      ...(config.signal instanceof AbortSignal ? { signal: config.signal } : {}),
    });
    config.headers.set('Authorization', `Bearer ${token.accessToken}`);
    (config as MarkedConfig)[USED_TOKEN] = token.accessToken;
    return config;
  });

  const resend = (config: MarkedConfig) => {
    // RFC 6750 §3.1: the token was refused; never reuse it.
    tokens.invalidate(config[USED_TOKEN]);
    config[RETRIED] = true;
    return instance.request(config);
  };
  const responseInterceptor = instance.interceptors.response.use(
    // A 401 the caller's validateStatus lets through arrives here, not as an error.
    (response) =>
      retry && response.status === 401 && !(response.config as MarkedConfig)[RETRIED]
        ? resend(response.config as MarkedConfig)
        : response,
    (error: unknown) => {
      const config = retry ? unauthorizedConfig(error) : undefined;
      if (!config || config[RETRIED]) return Promise.reject(error);
      return resend(config);
    },
  );

  return () => {
    instance.interceptors.request.eject(requestInterceptor);
    instance.interceptors.response.eject(responseInterceptor);
  };
}
