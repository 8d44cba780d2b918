import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  clientSecretAad,
  loadOrCreateKeyFile,
  parseSecretEncryptionKey,
  SecretCipher,
  SecretDecryptionError,
  signingKeyAad,
} from './secret-cipher.js';

const KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const AAD = clientSecretAad('client-1', 'cred-1');

describe('parseSecretEncryptionKey', () => {
  it.each([
    ['hex', KEY.toString('hex')],
    ['upper-case hex', KEY.toString('hex').toUpperCase()],
    ['base64url', KEY.toString('base64url')],
    ['base64', KEY.toString('base64')],
    ['text with surrounding whitespace', `  ${KEY.toString('base64url')}\n`],
    ['bytes', new Uint8Array(KEY)],
  ])('accepts a 32-byte key as %s', (_form, value) => {
    expect(parseSecretEncryptionKey(value).equals(KEY)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['16 bytes of hex', randomBytes(16).toString('hex')],
    ['31 bytes of base64url', randomBytes(31).toString('base64url')],
    ['33 bytes of base64', randomBytes(33).toString('base64')],
    ['not an encoding', 'correct horse battery staple!'],
    ['31 raw bytes', new Uint8Array(31)],
  ])('refuses %s with an error naming SECRET_ENCRYPTION_KEY', (_form, value) => {
    expect(() => parseSecretEncryptionKey(value)).toThrow(/SECRET_ENCRYPTION_KEY must be/);
  });

  it('never echoes the refused value', () => {
    const value = 'c2VjcmV0LXZhbHVlLXRoYXQtaXMtdG9vLXNob3J0';
    expect(() => parseSecretEncryptionKey(value)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(value) }),
    );
  });
});

describe('SecretCipher (AES-256-GCM)', () => {
  const cipher = new SecretCipher(KEY.toString('hex'));

  it('round-trips, with output v1.<iv>.<tag>.<ciphertext> in base64url', () => {
    const stored = cipher.encrypt('the secret', AAD);
    expect(stored).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain('the secret');
    expect(cipher.decrypt(stored, AAD)).toBe('the secret');
  });

  it('uses a fresh IV for every encryption', () => {
    const outputs = new Set(Array.from({ length: 20 }, () => cipher.encrypt('same', AAD)));
    expect(outputs.size).toBe(20);
    const ivs = new Set([...outputs].map((output) => output.split('.')[1]));
    expect(ivs.size).toBe(20);
  });

  it('round-trips empty and non-ASCII text', () => {
    for (const text of ['', 'émoji 🔑 and ünïcode']) {
      expect(cipher.decrypt(cipher.encrypt(text, AAD), AAD)).toBe(text);
    }
  });

  const stored = cipher.encrypt('the secret', AAD);
  const [version, iv, tag, body] = stored.split('.') as [string, string, string, string];
  const flip = (part: string) => {
    const bytes = Buffer.from(part, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    return bytes.toString('base64url');
  };

  it.each([
    ['a flipped ciphertext bit', [version, iv, tag, flip(body)].join('.'), AAD],
    ['a flipped tag bit', [version, iv, flip(tag), body].join('.'), AAD],
    ['a flipped IV bit', [version, flip(iv), tag, body].join('.'), AAD],
    ['a truncated tag', [version, iv, tag.slice(0, 10), body].join('.'), AAD],
    ['another version', ['v2', iv, tag, body].join('.'), AAD],
    ['a missing part', [version, iv, tag].join('.'), AAD],
    ['garbage', 'not-a-ciphertext', AAD],
    ['another row (AAD)', stored, clientSecretAad('client-1', 'cred-2')],
    ['another client (AAD)', stored, clientSecretAad('client-2', 'cred-1')],
    ['another purpose (AAD)', stored, signingKeyAad('client-1')],
  ])('refuses %s', (_case, value, aad) => {
    expect(() => cipher.decrypt(value, aad)).toThrow(SecretDecryptionError);
  });

  it('refuses a ciphertext made with another key', () => {
    const other = new SecretCipher(randomBytes(32));
    expect(() => other.decrypt(stored, AAD)).toThrow(SecretDecryptionError);
  });

  it('does not reveal its key when logged', () => {
    for (const text of [inspect(cipher), JSON.stringify({ cipher })]) {
      expect(text).not.toContain(KEY.toString('hex'));
      expect(text).not.toContain(KEY.toString('base64url'));
    }
  });
});

describe('loadOrCreateKeyFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'client-auth-key-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a 32-byte key with mode 0600 (and its directory) when absent', async () => {
    const path = join(dir, 'nested', 'data', 'secret.key');
    const key = loadOrCreateKeyFile(path);
    expect(parseSecretEncryptionKey(key)).toHaveLength(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested', 'data'))).mode & 0o777).toBe(0o700);
    expect((await readFile(path, 'utf8')).trim()).toBe(key);
    expect(() => new SecretCipher(key)).not.toThrow();
  });

  it('reads the same key back afterwards, and leaves no temp file', async () => {
    const path = join(dir, 'again', 'secret.key');
    const first = loadOrCreateKeyFile(path);
    expect(loadOrCreateKeyFile(path)).toBe(first);
    expect(await readdir(join(dir, 'again'))).toEqual(['secret.key']);
  });

  it('accepts a hex key file and a raw 32-byte key file', async () => {
    await writeFile(join(dir, 'hex.key'), KEY.toString('hex') + '\n');
    await writeFile(join(dir, 'raw.key'), KEY);
    expect(loadOrCreateKeyFile(join(dir, 'hex.key'))).toBe(KEY.toString('base64url'));
    expect(loadOrCreateKeyFile(join(dir, 'raw.key'))).toBe(KEY.toString('base64url'));
  });

  it('refuses a key file holding something else', async () => {
    await writeFile(join(dir, 'bad.key'), 'too short\n');
    expect(() => loadOrCreateKeyFile(join(dir, 'bad.key'))).toThrow(/SECRET_ENCRYPTION_KEY/);
  });
});
