/** NUL cannot be stored in PostgreSQL text, and a lone surrogate is not Unicode. */
const UNSTORABLE = /[\0\uD800-\uDFFF]/u;

/** Why `value` cannot be stored as client text of `min..max` code points, or null when it can. */
export function storedTextProblem(value: unknown, limits: { min: number; max: number }): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (UNSTORABLE.test(value)) return 'must be valid Unicode without NUL characters';
  let length = 0;
  for (const _ of value) length += 1;
  if (length < limits.min || length > limits.max) return `must be ${limits.min} to ${limits.max} characters`;
  return null;
}
