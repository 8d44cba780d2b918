import { Injectable } from '@nestjs/common';
import {
  signClientAssertion,
  type SignClientAssertionOptions,
} from '../../core/signing/sign-client-assertion.js';
import { TokenClientRegistry } from './token-client.registry.js';

/**
 * Mints RFC 7523 client assertions in a Nest application (SPEC S7): for a named client of
 * `ClientAuthClientsModule`, exactly as its token requests carry them, or from explicit options.
 *
 * @example
 * ```ts
 * constructor(private readonly signer: ClientAssertionSignerService) {}
 * const assertion = await this.signer.createAssertion('billing');
 * ```
 */
@Injectable()
export class ClientAssertionSignerService {
  constructor(private readonly registry: TokenClientRegistry) {}

  /**
   * A new assertion for the client registered as `clientName` (its key, audience, lifetime and
   * `typ`); the token endpoint is discovered when needed. Each call has a new `jti`.
   */
  async createAssertion(clientName: string, grantType = 'client_credentials'): Promise<string> {
    return this.registry.get(clientName).createClientAssertion(grantType);
  }

  /** Signs an assertion from explicit options (`signClientAssertion`). */
  async sign(options: SignClientAssertionOptions): Promise<string> {
    return signClientAssertion(options);
  }
}
