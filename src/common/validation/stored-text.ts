import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { registerDecorator, ValidationArguments } from 'class-validator';

export interface StoredTextLimits {
  /** Fewest code points. */
  min: number;
  /** Most code points: what the column holds (`varchar(n)` counts code points too). */
  max: number;
}

const INVALID_TEXT = 'must be valid Unicode text without NUL';

/**
 * What is wrong with a string a client wants stored, or null when nothing is: it must be a
 * string of well-formed UTF-16 (a lone surrogate would be stored as U+FFFD, i.e. altered), hold
 * no NUL (PostgreSQL text cannot) and have `min..max` code points. Code points, not UTF-16 units
 * or graphemes: that is how PostgreSQL counts, so a value that passes always fits its column
 * (class-validator's `@Length` discounts variation selectors and so lets "❤️"×100 overflow
 * `varchar(100)`).
 */
export function storedTextProblem(value: unknown, limits: { min: number; max: number }): string | null {
  if (typeof value !== 'string') return 'must be a string';
  let codePoints = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit === 0) return INVALID_TEXT;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      // A high surrogate must be followed by a low one; a low one never comes first.
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return INVALID_TEXT;
      i++;
    }
    codePoints++;
  }
  if (codePoints < limits.min || codePoints > limits.max) {
    return limits.min > 0 ? `must be ${limits.min}..${limits.max} characters` : `must be at most ${limits.max} characters`;
  }
  return null;
}

/**
 * The class-validator rule for a string a client sends to be stored (see `storedTextProblem`);
 * it also documents the bounds, in code points as JSON Schema's `minLength`/`maxLength` count.
 */
export function StoredText(limits: StoredTextLimits): PropertyDecorator {
  const validate: PropertyDecorator = (target, propertyName) =>
    registerDecorator({
      name: 'storedText',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [limits],
      validator: {
        validate: (value: unknown) => storedTextProblem(value, limits) === null,
        defaultMessage: (args: ValidationArguments) => `${args.property} ${storedTextProblem(args.value, limits)}`,
      },
    });
  return applyDecorators(
    ApiProperty({ type: 'string', minLength: limits.min, maxLength: limits.max, pattern: '^[^\\u0000]*$' }),
    validate,
  );
}
