/// <reference lib="dom" />
/**
 * The admin REST API, called with the operator's bearer token. The token lives in memory and
 * `sessionStorage` (this tab only, gone when it closes): never in a URL, a cookie or a log.
 */

const STORAGE_KEY = 'client-auth-console.admin-token';
let token: string | undefined = sessionStorage.getItem(STORAGE_KEY) ?? undefined;

/** A refused or failed API call, carrying the server's OAuth error (RFC 6749 §5.2 form). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description ? `${error}: ${description}` : error);
  }
}

export function hasToken(): boolean {
  return token !== undefined;
}

export function signOut(): void {
  token = undefined;
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * Checks `candidate` with one read and keeps it only when the server accepts it; a refusal
 * throws the server's error and leaves any earlier token untouched.
 */
export async function signIn(candidate: string): Promise<void> {
  await call('GET', '/admin/clients?limit=1', undefined, candidate);
  token = candidate;
  sessionStorage.setItem(STORAGE_KEY, candidate);
}

/** One API call; JSON in and out. Throws {@link ApiError} on any non-2xx answer. */
export async function call<T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  bearer: string | undefined = token,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'the server could not be reached');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = parsed as { error?: unknown; error_description?: unknown } | undefined;
    throw new ApiError(
      response.status,
      typeof error?.error === 'string' ? error.error : `http_${response.status}`,
      typeof error?.error_description === 'string' ? error.error_description : '',
    );
  }
  return parsed as T;
}

/** `?a=1&b=2` of the defined values. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
