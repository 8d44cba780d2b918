import { describe, it, expect } from '@jest/globals';
import type { RegisteredClient } from '../types.js';
import { InMemoryClientStore } from './in-memory-client-store.js';

const registration = (clientId: string): RegisteredClient => ({
  clientId,
  enabled: true,
  tokenEndpointAuthMethod: 'private_key_jwt',
  credentials: [],
  grantTypes: ['client_credentials'],
  metadata: {},
});

describe('InMemoryClientStore', () => {
  it('finds the registrations it was built from, returning the same objects', async () => {
    const a = registration('a');
    const store = new InMemoryClientStore([a, registration('b')]);
    expect(await store.findClient('a')).toBe(a);
    expect(await store.findClient('b')).toMatchObject({ clientId: 'b' });
    expect(await store.findClient('c')).toBeUndefined();
    expect(store.list().map((c) => c.clientId)).toEqual(['a', 'b']);
  });

  it('adds, replaces and deletes registrations', async () => {
    const store = new InMemoryClientStore();
    store.set(registration('a'));
    const replaced = { ...registration('a'), enabled: false };
    store.set(replaced);
    expect(await store.findClient('a')).toBe(replaced);
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
    expect(await store.findClient('a')).toBeUndefined();
  });

  it('keeps the most recent successes and failures, bounded', () => {
    const store = new InMemoryClientStore([], { maxEvents: 3 });
    for (let i = 0; i < 5; i++) {
      store.recordFailure({
        clientId: `c${i}`,
        reason: 'client_unknown',
        detail: 'x',
        at: new Date(i),
      });
      store.recordSuccess({
        clientId: i % 2 ? 'odd' : 'even',
        method: 'private_key_jwt',
        at: new Date(i),
      });
    }
    expect(store.failures.map((f) => f.clientId)).toEqual(['c2', 'c3', 'c4']);
    expect(store.successes).toHaveLength(3);
    expect(store.lastSuccess('even')?.at).toEqual(new Date(4));
    expect(store.lastSuccess('odd')?.at).toEqual(new Date(3));
    expect(store.lastSuccess('none')).toBeUndefined();
  });

  it('returns copies of the event lists', () => {
    const store = new InMemoryClientStore();
    store.recordFailure({ reason: 'credentials_missing', detail: 'x', at: new Date(0) });
    (store.failures as unknown[]).length = 0;
    expect(store.failures).toHaveLength(1);
  });

  it('records nothing with maxEvents 0', () => {
    const store = new InMemoryClientStore([], { maxEvents: 0 });
    store.recordSuccess({ clientId: 'a', method: 'none', at: new Date(0) });
    expect(store.successes).toHaveLength(0);
  });
});
