import { Inject } from '@nestjs/common';

/**
 * The injection token of the token client registered under `name` by
 * `ClientAuthClientsModule` — for `moduleRef.get()` or custom providers.
 */
export function getTokenClientToken(name: string): string {
  return `nestjs-client-auth:token-client:${name}`;
}

/**
 * Injects the `TokenClient` registered under `name`.
 *
 * @example
 * ```ts
 * constructor(@InjectTokenClient('billing') private readonly billing: TokenClient) {}
 * ```
 */
export const InjectTokenClient = (name: string): PropertyDecorator & ParameterDecorator =>
  Inject(getTokenClientToken(name));
