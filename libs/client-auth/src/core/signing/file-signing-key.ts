import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { JWK } from 'jose';
import { SigningKeyError } from '../outgoing/outgoing-errors.js';
import {
  importPrivateSigningKey,
  type AssertionSigningKey,
  type PrivateSigningKeyOptions,
  type SigningKeySource,
} from './signing-key.js';

/** Options of {@link FileSigningKeySource}. */
export interface FileSigningKeyOptions extends PrivateSigningKeyOptions {
  /**
   * How often the file is checked for a change (`stat`: inode, size, mtime, ctime), in ms.
   * Default 1000; 0 disables the timer (call `check()` yourself).
   */
  readonly checkIntervalMs?: number;
  /** Called after a changed file was loaded (with the new key's `alg` and `kid`). */
  readonly onReload?: (key: { readonly alg: string; readonly kid?: string }) => void;
  /** Called when a changed file cannot be read or imported; the previous key stays in use. */
  readonly onError?: (error: SigningKeyError) => void;
}

/** Default interval of the change check, in ms. */
export const DEFAULT_KEY_FILE_CHECK_INTERVAL_MS = 1000;

function stampOf(stats: Stats): string {
  // A rename (atomic replace, or a Kubernetes secret's symlink swap) changes the inode; an
  // in-place write changes size or mtime/ctime.
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * Parses a key file: a PEM (PKCS#8, optionally encrypted), a private JWK, or a JWK Set whose key
 * is chosen by `options.kid` (or which holds exactly one private key).
 */
export function parseKeyFile(
  content: string,
  options: PrivateSigningKeyOptions = {},
): AssertionSigningKey {
  const text = content.trim();
  if (!text.startsWith('{')) return importPrivateSigningKey(text, options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new SigningKeyError('key_invalid', 'the key file is neither a PEM nor JSON', { cause });
  }
  const object = parsed as { keys?: unknown };
  if (Array.isArray(object.keys)) {
    const keys = (object.keys as JWK[]).filter(
      (key) => typeof key === 'object' && key && 'd' in key,
    );
    const chosen = options.kid !== undefined ? keys.filter((key) => key.kid === options.kid) : keys;
    if (chosen.length !== 1) {
      throw new SigningKeyError(
        'key_invalid',
        options.kid !== undefined
          ? `the JWK Set has no single private key with kid ${JSON.stringify(options.kid)}`
          : 'the JWK Set must hold exactly one private key, or name it with kid',
      );
    }
    return importPrivateSigningKey(chosen[0]!, options);
  }
  return importPrivateSigningKey(parsed as JWK, options);
}

/**
 * A private key read from a file and re-read when the file changes, so keys rotate without a
 * restart (SPEC S7). The file is read once at construction (a missing or invalid file fails
 * start-up); afterwards a timer `stat`s it every `checkIntervalMs` and, when it changed, reads
 * and imports it in the background. `current()` only returns the imported key: signing never
 * waits for the disk. A changed file that cannot be imported keeps the previous key and is
 * reported to `onError`.
 *
 * The file holds a PKCS#8 PEM (`kid` then comes from `options.kid`), a private JWK, or a JWK Set.
 * The timer is `unref`'d; `close()` stops it.
 *
 * @example
 * ```ts
 * const source = new FileSigningKeySource('/var/run/secrets/client/key.pem', { kid: 'k1' });
 * const signer = new ClientAssertionSigner({ key: source });
 * ```
 */
export class FileSigningKeySource implements SigningKeySource {
  readonly method = 'private_key_jwt' as const;
  readonly path: string;
  readonly #options: FileSigningKeyOptions;
  #key: AssertionSigningKey;
  #stamp: string;
  #failedStamp: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<boolean> | undefined;

  constructor(path: string, options: FileSigningKeyOptions = {}) {
    this.path = path;
    this.#options = options;
    let content: string;
    let stats: Stats;
    try {
      stats = statSync(path);
      content = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new SigningKeyError('key_invalid', `the key file ${path} cannot be read`, { cause });
    }
    this.#key = parseKeyFile(content, options);
    this.#stamp = stampOf(stats);
    const interval = options.checkIntervalMs ?? DEFAULT_KEY_FILE_CHECK_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new SigningKeyError('key_invalid', 'checkIntervalMs must be a non-negative number');
    }
    if (interval > 0) {
      this.#timer = setInterval(() => void this.check(), interval);
      this.#timer.unref();
    }
  }

  /** The key loaded last. No I/O. */
  current(): AssertionSigningKey {
    return this.#key;
  }

  /**
   * Checks the file now and loads it when it changed. Resolves true when a new key was loaded.
   * Concurrent calls share one check. Never rejects: failures go to `onError`.
   */
  check(): Promise<boolean> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /** Reads and imports the file now, whether or not it changed. Rejects when it cannot. */
  async reload(): Promise<void> {
    const stats = await stat(this.path);
    const content = await readFile(this.path, 'utf8');
    this.#install(parseKeyFile(content, this.#options), stampOf(stats));
  }

  /** Stops the change check. Idempotent. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<boolean> {
    let stamp: string;
    try {
      stamp = stampOf(await stat(this.path));
    } catch (cause) {
      // During an atomic replace the path may briefly not exist: keep the key, try again later.
      this.#report(
        new SigningKeyError('key_invalid', `the key file ${this.path} cannot be read`, { cause }),
        'missing',
      );
      return false;
    }
    if (stamp === this.#stamp || stamp === this.#failedStamp) return false;
    try {
      const content = await readFile(this.path, 'utf8');
      this.#install(parseKeyFile(content, this.#options), stamp);
      return true;
    } catch (error) {
      const failure =
        error instanceof SigningKeyError
          ? error
          : new SigningKeyError('key_invalid', `the key file ${this.path} cannot be read`, {
              cause: error,
            });
      this.#report(failure, stamp);
      return false;
    }
  }

  #install(key: AssertionSigningKey, stamp: string): void {
    this.#key = key;
    this.#stamp = stamp;
    this.#failedStamp = undefined;
    this.#options.onReload?.({ alg: key.alg, ...(key.kid !== undefined ? { kid: key.kid } : {}) });
  }

  #report(error: SigningKeyError, stamp: string): void {
    // Each broken version of the file is reported once, not at every check.
    if (this.#failedStamp === stamp) return;
    this.#failedStamp = stamp;
    this.#options.onError?.(error);
  }
}
