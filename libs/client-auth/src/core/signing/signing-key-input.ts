import type { KeyObject, webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import { FileSigningKeySource, type FileSigningKeyOptions } from './file-signing-key.js';
import {
  callbackSigningKey,
  importPrivateSigningKey,
  importSecretSigningKey,
  isSigningKeySource,
  type AssertionSigningKey,
  type CallbackSigningKeyOptions,
  type SigningKeySource,
} from './signing-key.js';

/**
 * A signing key as options name it (SPEC S7 key sources):
 * - `{ jwk }` — a private JWK (RFC 7517);
 * - `{ pem, passphrase? }` — a PKCS#8 PEM;
 * - `{ privateKey }` — a node:crypto `KeyObject` or WebCrypto `CryptoKey`;
 * - `{ file, checkIntervalMs? }` — a PEM/JWK file re-read when it changes;
 * - `{ secret }` — a client secret for `client_secret_jwt` (HS256 unless `alg` says otherwise);
 * - `{ alg, sign }` — a KMS/HSM signing callback;
 * - any `SigningKeySource` or `AssertionSigningKey` built by hand.
 *
 * Every form but `sign`/`secret` accepts `alg` and `kid` (see `importPrivateSigningKey`).
 */
export type SigningKeyInput =
  | { readonly jwk: JWK; readonly alg?: string; readonly kid?: string }
  | {
      readonly pem: string;
      readonly passphrase?: string;
      readonly alg?: string;
      readonly kid?: string;
    }
  | {
      readonly privateKey: KeyObject | webcrypto.CryptoKey;
      readonly alg?: string;
      readonly kid?: string;
    }
  | ({ readonly file: string } & FileSigningKeyOptions)
  | { readonly secret: string | Uint8Array; readonly alg?: string; readonly kid?: string }
  | CallbackSigningKeyOptions
  | SigningKeySource;

function fixed(key: AssertionSigningKey): SigningKeySource {
  return Object.freeze({ method: key.method, current: () => key });
}

/**
 * Builds the {@link SigningKeySource} an option names. In-memory keys are imported here, once;
 * a file is read here and then watched. Invalid input throws `SigningKeyError('key_invalid')`
 * or `ClientAuthConfigurationError` — at start-up, not at the first token request.
 *
 * @example
 * ```ts
 * const source = createSigningKeySource({ file: '/etc/client/key.pem', kid: 'k1' });
 * ```
 */
export function createSigningKeySource(input: SigningKeyInput): SigningKeySource {
  if (typeof input !== 'object' || input === null) {
    throw new ClientAuthConfigurationError('a signing key is required');
  }
  if (isSigningKeySource(input)) return input;
  if ('file' in input) return new FileSigningKeySource(input.file, input);
  if ('jwk' in input) return fixed(importPrivateSigningKey(input.jwk, input));
  if ('pem' in input) return fixed(importPrivateSigningKey(input.pem, input));
  if ('privateKey' in input) return fixed(importPrivateSigningKey(input.privateKey, input));
  if ('secret' in input) return fixed(importSecretSigningKey(input.secret, input));
  if ('sign' in input && typeof input.sign === 'function') {
    return fixed(callbackSigningKey(input));
  }
  throw new ClientAuthConfigurationError(
    'the signing key must be one of { jwk }, { pem }, { privateKey }, { file }, { secret }, { alg, sign } or a SigningKeySource',
  );
}
