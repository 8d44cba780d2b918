import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { validate } from 'class-validator';
import { plainToInstance } from 'class-transformer';
import {
  DateTimeField,
  FieldRule,
  OptionalField,
  QueryInteger,
  parseRfc3339,
} from './field-rule.decorator.js';
import { integerInRange, oneOf } from './field-rules.js';

describe('parseRfc3339 (RFC 3339 §5.6)', () => {
  it.each([
    ['UTC', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
    ['lower-case t and z', '2030-01-01t00:00:00z', '2030-01-01T00:00:00.000Z'],
    ['a positive offset', '2030-01-01T02:00:00+02:00', '2030-01-01T00:00:00.000Z'],
    ['a negative offset', '2029-12-31T19:30:00-04:30', '2030-01-01T00:00:00.000Z'],
    ['fractional seconds', '2030-01-01T00:00:00.5Z', '2030-01-01T00:00:00.500Z'],
    ['a leap day', '2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['the last second of a day', '2030-12-31T23:59:59Z', '2030-12-31T23:59:59.000Z'],
  ])('parses %s', (_case, text, iso) => {
    expect(parseRfc3339(text)?.toISOString()).toBe(iso);
  });

  it.each([
    ['no offset', '2030-01-01T00:00:00'],
    ['a date only', '2030-01-01'],
    ['a space separator', '2030-01-01 00:00:00Z'],
    ['a month 13', '2030-13-01T00:00:00Z'],
    ['a month 0', '2030-00-01T00:00:00Z'],
    ['a day 0', '2030-01-00T00:00:00Z'],
    ['February 29 of a common year', '2029-02-29T00:00:00Z'],
    ['April 31', '2030-04-31T00:00:00Z'],
    ['hour 24', '2030-01-01T24:00:00Z'],
    ['minute 60', '2030-01-01T00:60:00Z'],
    ['a leap second', '2030-12-31T23:59:60Z'],
    ['an offset hour 24', '2030-01-01T00:00:00+24:00'],
    ['an offset without a colon', '2030-01-01T00:00:00+0200'],
    ['a short year', '30-01-01T00:00:00Z'],
    ['trailing text', '2030-01-01T00:00:00Z '],
    ['epoch seconds', '1893456000'],
  ])('refuses %s', (_case, text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});

class SampleDto {
  @OptionalField('basic')
  @FieldRule(oneOf(['basic', 'jwt']))
  method: string = 'basic';

  @QueryInteger()
  @OptionalField()
  @FieldRule(integerInRange(1, 9))
  count?: number;

  @DateTimeField()
  @OptionalField()
  @FieldRule((value) => (value instanceof Date ? undefined : 'must be a date'))
  at?: Date;

  @FieldRule((value) => (typeof value === 'string' ? undefined : 'must be a string'), 'needed')
  needed!: string;
}

async function problems(plain: Record<string, unknown>): Promise<Record<string, string>> {
  const instance = plainToInstance(SampleDto, plain);
  const errors = await validate(instance, { stopAtFirstError: true });
  return Object.fromEntries(
    errors.map((error) => [error.property, Object.values(error.constraints ?? {})[0]!]),
  );
}

describe('FieldRule and its companions', () => {
  it('reports the check problem as the message, and "is required" when absent', async () => {
    await expect(problems({ method: 'x', count: 10 })).resolves.toEqual({
      method: 'must be one of basic, jwt',
      count: 'must be an integer between 1 and 9',
      needed: 'is required',
    });
  });

  it('names the constraint after the check or as told', async () => {
    const errors = await validate(plainToInstance(SampleDto, { method: 'x' }));
    expect(errors.map((error) => Object.keys(error.constraints ?? {})[0])).toEqual([
      'fieldRule',
      'needed',
    ]);
  });

  it('OptionalField: null stands for the default, absent keeps the initializer', () => {
    expect(plainToInstance(SampleDto, { method: null, needed: 'x' }).method).toBe('basic');
    expect(plainToInstance(SampleDto, { needed: 'x' }).method).toBe('basic');
    expect(plainToInstance(SampleDto, { count: null, needed: 'x' }).count).toBeUndefined();
  });

  it('QueryInteger converts decimal digits only', () => {
    expect(plainToInstance(SampleDto, { count: '7' }).count).toBe(7);
    expect(plainToInstance(SampleDto, { count: '007' }).count).toBe(7);
    expect(plainToInstance(SampleDto, { count: '7.0' }).count).toBe('7.0');
    expect(plainToInstance(SampleDto, { count: 7 }).count).toBe(7);
  });

  it('DateTimeField converts RFC 3339 strings only', () => {
    expect(plainToInstance(SampleDto, { at: '2030-01-01T00:00:00Z' }).at).toEqual(
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(plainToInstance(SampleDto, { at: 'Jan 1 2030' }).at).toBe('Jan 1 2030');
    expect(plainToInstance(SampleDto, { at: 0 }).at).toBe(0);
  });
});
