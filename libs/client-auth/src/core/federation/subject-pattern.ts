/**
 * Federated credential subjects (SPEC S9): exact, or a restricted pattern in which `*` stands
 * for exactly one whole segment — one or more characters other than `:` and `/` — between
 * separators (`:` or `/`) or at either end. Nothing else is special: no `?`, no character
 * classes, no `**`, no partial segments such as `app-*`, and at most three `*`.
 *
 * | pattern                                   | matches                                        |
 * | ----------------------------------------- | ---------------------------------------------- |
 * | `system:serviceaccount:payments:*`        | any service account of namespace `payments`    |
 * | `repo:acme/*:ref:refs/heads/main`         | `main` of any repository of `acme`             |
 */

const MAX_WILDCARDS = 3;

/** Why a subject pattern is refused, or undefined when it is valid. */
export function subjectPatternProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 512) {
    return 'must be 1 to 512 characters';
  }
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'must not contain control characters';
  const segments = pattern.split(/[:/]/);
  const wildcards = segments.filter((segment) => segment.includes('*'));
  if (wildcards.some((segment) => segment !== '*')) {
    return '"*" may only stand for a whole segment between ":" or "/" separators';
  }
  if (wildcards.length > MAX_WILDCARDS) return `at most ${MAX_WILDCARDS} "*" segments`;
  // An empty segment is no literal: `*:` would match nearly any one-segment subject.
  if (!segments.some((segment) => segment !== '*' && segment !== '')) {
    return 'must contain at least one literal segment';
  }
  return undefined;
}

/** Whether `subject` matches `pattern` (exact when `pattern` has no `*`). */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (!pattern.includes('*')) return pattern === subject;
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^:/]+')}$`,
  );
  return regex.test(subject);
}
