import { describe, expect, it } from '@jest/globals';
import { subjectMatches, subjectPatternProblem } from './subject-pattern.js';

const SA = 'system:serviceaccount:payments:billing';

describe('subjectMatches', () => {
  it.each([
    // exact subjects compare exactly: no case folding, no trimming, no prefix match
    [SA, SA, true],
    [SA, 'system:serviceaccount:payments:Billing', false],
    [SA, `${SA} `, false],
    [SA, `${SA}x`, false],
    [SA, 'system:serviceaccount:payments', false],
    // `*` is one whole segment of one or more characters other than `:` and `/`
    ['system:serviceaccount:payments:*', SA, true],
    ['system:serviceaccount:payments:*', 'system:serviceaccount:payments:ledger-2', true],
    ['system:serviceaccount:payments:*', 'system:serviceaccount:payments:', false],
    ['system:serviceaccount:payments:*', 'system:serviceaccount:payments:a:b', false],
    ['system:serviceaccount:payments:*', 'system:serviceaccount:payments:a/b', false],
    ['system:serviceaccount:payments:*', 'system:serviceaccount:shipping:billing', false],
    ['system:serviceaccount:*:billing', SA, true],
    ['system:serviceaccount:*:billing', 'system:serviceaccount:payments:ledger', false],
    ['*:serviceaccount:payments:billing', SA, true],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/main', true],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/api/x:ref:refs/heads/main', false],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/dev', false],
    ['repo:*/*:environment:prod', 'repo:acme/api:environment:prod', true],
    // literal text around a wildcard is not a regular expression
    ['repo:acme.corp/*', 'repo:acme.corp/api', true],
    ['repo:acme.corp/*', 'repo:acmeXcorp/api', false],
    ['a+b:(x)|y:*', 'a+b:(x)|y:z', true],
    ['a+b:(x)|y:*', 'aab:(x)|y:z', false],
    // `?` and `[` have no meaning
    ['app:?', 'app:?', true],
    ['app:?', 'app:x', false],
  ])('%j against %j → %s', (pattern, subject, expected) => {
    expect(subjectPatternProblem(pattern)).toBeUndefined();
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });
});

describe('subjectPatternProblem', () => {
  it.each([
    [SA],
    ['system:serviceaccount:payments:*'],
    ['*:serviceaccount:payments:billing'],
    ['repo:acme/*:ref:refs/heads/*'],
    ['a:*:*:*'],
    ['https://ci.example.com/project/42'],
  ])('accepts %j', (pattern) => {
    expect(subjectPatternProblem(pattern)).toBeUndefined();
  });

  it.each([
    ['', 'must be 1 to 512 characters'],
    ['x'.repeat(513), 'must be 1 to 512 characters'],
    ['app-*', '"*" may only stand for a whole segment'],
    ['system:serviceaccount:payments:app-*', '"*" may only stand for a whole segment'],
    ['system:serviceaccount:*-team:billing', '"*" may only stand for a whole segment'],
    ['repo:acme/**', '"*" may only stand for a whole segment'],
    ['repo:a*b', '"*" may only stand for a whole segment'],
    ['a:*:*:*:*', 'at most 3 "*" segments'],
    ['*', 'must contain at least one literal segment'],
    ['*:*', 'must contain at least one literal segment'],
    ['*/*:*', 'must contain at least one literal segment'],
    // an empty segment is no literal: these would match nearly any one- or two-segment subject
    ['*:', 'must contain at least one literal segment'],
    ['*::*', 'must contain at least one literal segment'],
    ['system:serviceaccount:\npayments:*', 'must not contain control characters'],
    ['system:serviceaccount:payments:\u007f', 'must not contain control characters'],
  ])('refuses %j', (pattern, problem) => {
    expect(subjectPatternProblem(pattern)).toContain(problem);
  });

  it('refuses what is not a string', () => {
    expect(subjectPatternProblem(42 as unknown as string)).toBe('must be 1 to 512 characters');
    expect(subjectPatternProblem(undefined as unknown as string)).toBe(
      'must be 1 to 512 characters',
    );
  });
});
