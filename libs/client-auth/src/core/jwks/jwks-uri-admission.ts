import { JwksFetchError } from './jwks-errors.js';
import { JwksFetcher, type JwksFetcherOptions } from './jwks-fetcher.js';
import { admitJwksUri } from './ssrf-policy.js';

/**
 * Admits a `jwks_uri` at registration (SPEC S3): the URL and every address its host resolves to
 * pass the SSRF checks, and the key set it serves is fetched once and holds at least one usable
 * key. Resolves to the number of usable keys; rejects with a {@link JwksFetchError} (or a
 * subclass) whose message says what is wrong and never holds key material.
 */
export type JwksUriAdmission = (uri: string) => Promise<number>;

/**
 * Builds the default {@link JwksUriAdmission}: {@link admitJwksUri} (resolution and address
 * checks), then a fetch by {@link JwksFetcher} with the same policy and limits (S6).
 *
 * @example
 * ```ts
 * const admit = createJwksUriAdmission({ allowHosts: ['jwks.test'] });
 * await admit('https://client.example.com/jwks.json');
 * ```
 */
export function createJwksUriAdmission(options: JwksFetcherOptions = {}): JwksUriAdmission {
  const fetcher = new JwksFetcher(options);
  return async (uri) => {
    await admitJwksUri(uri, {
      ...(options.allowHosts && { allowHosts: options.allowHosts }),
      ...(options.resolver && { resolver: options.resolver }),
    });
    const { jwks } = await fetcher.fetch(uri);
    if (jwks.keys.length === 0) {
      throw new JwksFetchError('invalid_jwks', 'jwks_uri serves no key usable for signatures');
    }
    return jwks.keys.length;
  };
}
