import { describe, expect, it } from '@jest/globals';
import { randomId } from './random-id.js';

describe('randomId', () => {
  it('gives 128-bit base64url identifiers', () => {
    for (let i = 0; i < 300; i++) {
      const id = randomId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('never repeats, across many refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(randomId());
    expect(seen.size).toBe(20_000);
  });

  it('uses every bit: each byte position takes many values and no id is all zeros', () => {
    const ids = Array.from({ length: 2_000 }, () => Buffer.from(randomId(), 'base64url'));
    for (let position = 0; position < 16; position++) {
      const values = new Set(ids.map((bytes) => bytes[position]));
      expect(values.size).toBeGreaterThan(200);
    }
    expect(ids.some((bytes) => bytes.every((b) => b === 0))).toBe(false);
  });
});
