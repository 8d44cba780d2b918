import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_VARIABLE = 'SECRET_ENCRYPTION_KEY';

/** A ciphertext could not be decrypted: wrong key, tampered, malformed, or another row's AAD. */
export class SecretDecryptionError extends Error {
  constructor(options?: { cause?: unknown }) {
    super(
      'stored secret cannot be decrypted (wrong key, tampered or malformed ciphertext)',
      options,
    );
    this.name = 'SecretDecryptionError';
  }
}

/**
 * Decodes a 32-byte key given as 64 hex digits, base64url or base64. Throws an error naming
 * `SECRET_ENCRYPTION_KEY` (never echoing the value) when it is anything else.
 */
export function parseSecretEncryptionKey(value: string | Uint8Array): Buffer {
  if (typeof value !== 'string') {
    if (value.byteLength !== KEY_BYTES) {
      throw new Error(`${KEY_VARIABLE} must be ${KEY_BYTES} bytes, got ${value.byteLength}`);
    }
    return Buffer.from(value);
  }
  const text = value.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    key = Buffer.from(text, 'hex');
  } else if (/^[A-Za-z0-9_-]+$/.test(text)) {
    key = Buffer.from(text, 'base64url');
  } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    key = Buffer.from(text, 'base64');
  }
  if (!key || key.length !== KEY_BYTES) {
    throw new Error(
      `${KEY_VARIABLE} must be a ${KEY_BYTES}-byte key encoded as 64 hex digits, base64url or ` +
        `base64 (e.g. \`openssl rand -base64 32\`)` +
        (key ? `; it decodes to ${key.length} bytes` : '; it is not valid hex or base64'),
    );
  }
  return key;
}

/** AAD of a stored `client_secret_jwt` secret: binds the ciphertext to its client and row. */
export function clientSecretAad(clientId: string, credentialId: string): string {
  return `client_secret:${clientId}:${credentialId}`;
}

/** AAD of a stored server signing key: binds the ciphertext to its `kid`. */
export function signingKeyAad(kid: string): string {
  return `server_signing_key:${kid}`;
}

/**
 * Encrypts values stored at rest (SPEC S3: `client_secret_jwt` secrets, server private keys)
 * with AES-256-GCM: a random 96-bit IV per encryption (NIST SP 800-38D §8.2.2), a 128-bit tag,
 * and AAD binding each ciphertext to its purpose and row, so a ciphertext copied into another
 * row does not decrypt. Output: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 *
 * @example
 * ```ts
 * const cipher = new SecretCipher(process.env.SECRET_ENCRYPTION_KEY!);
 * const stored = cipher.encrypt(secret, clientSecretAad(clientId, credentialId));
 * cipher.decrypt(stored, clientSecretAad(clientId, credentialId)) === secret;
 * ```
 */
export class SecretCipher {
  readonly #key: Buffer;

  /** @param key 32 bytes, or their hex/base64url/base64 text (see {@link parseSecretEncryptionKey}). */
  constructor(key: string | Uint8Array) {
    this.#key = parseSecretEncryptionKey(key);
  }

  /** Encrypts `plaintext` bound to `aad` (e.g. {@link clientSecretAad}). */
  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, body]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /**
   * Decrypts a value of {@link encrypt} with the same `aad`. Throws {@link SecretDecryptionError}
   * on a wrong key, a wrong AAD, tampering or a malformed value.
   */
  decrypt(ciphertext: string, aad: string): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretDecryptionError();
    const [, ivText, tagText, bodyText] = parts as [string, string, string, string];
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretDecryptionError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new SecretDecryptionError({ cause });
    }
  }

  /** Never reveal the key through `console.log` or `util.inspect`. */
  toJSON(): string {
    return 'SecretCipher';
  }

  /** Never reveal the key through `util.inspect`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'SecretCipher { key: [redacted] }';
  }
}

/**
 * Reads the encryption key from `path`, creating it (32 random bytes as base64url text, mode
 * 0600, parent directory 0700) when absent, and returns it as base64url text for
 * {@link SecretCipher}. Used by the reference server under `./data` when `SECRET_ENCRYPTION_KEY`
 * is unset (SPEC S1). Synchronous, for start-up configuration. The file appears atomically
 * (written aside, then hard-linked into place, which fails if it exists), so processes starting
 * together all end up with the same key. Throws when the file holds something else than a key.
 *
 * @example
 * ```ts
 * const cipher = new SecretCipher(process.env.SECRET_ENCRYPTION_KEY ?? loadOrCreateKeyFile('./data/secret.key'));
 * ```
 */
export function loadOrCreateKeyFile(path: string): string {
  try {
    return parseKeyFile(readFileSync(path)).toString('base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES).toString('base64url');
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, key + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600); // the umask may only have narrowed it
    linkSync(temporary, path);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseKeyFile(readFileSync(path)).toString('base64url');
  } finally {
    rmSync(temporary, { force: true });
  }
}

function parseKeyFile(content: Buffer): Buffer {
  const text = content.toString('utf8').trim();
  try {
    return parseSecretEncryptionKey(text);
  } catch (error) {
    // A raw 32-byte key file is accepted too.
    if (content.length === KEY_BYTES) return Buffer.from(content);
    throw error;
  }
}
