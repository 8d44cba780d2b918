import { describe, expect, it } from '@jest/globals';
import { MemoryRevocationStore, type RevocationStore } from './revocation-store.interface.js';

describe('MemoryRevocationStore (RFC 7009, SPEC S4)', () => {
  const inOneHour = () => new Date(Date.now() + 3_600_000);

  it('a revoked jti stays revoked until the token expires; others are not revoked', async () => {
    const store: RevocationStore = new MemoryRevocationStore();
    await store.revoke('a', inOneHour(), 'client-1');
    expect(await store.isRevoked('a')).toBe(true);
    expect(await store.isRevoked('b')).toBe(false);
  });

  it('revoking twice is idempotent', async () => {
    const store: RevocationStore = new MemoryRevocationStore();
    await store.revoke('a', inOneHour(), 'client-1');
    await store.revoke('a', inOneHour(), 'client-1');
    expect(await store.isRevoked('a')).toBe(true);
  });

  it('forgets a jti whose token has expired (it cannot be used anyway)', async () => {
    const store: RevocationStore = new MemoryRevocationStore();
    await store.revoke('old', new Date(Date.now() - 1000), 'client-1');
    expect(await store.isRevoked('old')).toBe(false);
  });

  it('purgeExpired removes only entries expired at the given instant', async () => {
    const memory = new MemoryRevocationStore();
    const store: RevocationStore = memory;
    const base = Date.now() + 60_000;
    await store.revoke('early', new Date(base), 'c');
    await store.revoke('late', new Date(base + 60_000), 'c');
    expect(await memory.purgeExpired(new Date(base - 1))).toBe(0);
    expect(await memory.purgeExpired(new Date(base))).toBe(1);
    expect(await store.isRevoked('early')).toBe(false);
    expect(await store.isRevoked('late')).toBe(true);
  });
});
