import { validate } from 'class-validator';
import fc from 'fast-check';
import { StoredText, storedTextProblem } from '../../src/common/validation/stored-text';

const LIMITS = { min: 1, max: 100 };
const INVALID = 'must be valid Unicode text without NUL';

/** How PostgreSQL counts the characters of a text: code points. */
const codePoints = (s: string) => [...s].length;

describe('storedTextProblem', () => {
  it.each([
    ['plain text', 'Customer service'],
    ['one character', 'x'],
    ['100 astral characters', '𝕏'.repeat(100)],
    ['50 emoji with a variation selector (100 code points)', '❤️'.repeat(50)],
    ['combining marks', 'Z\u0351\u036b\u0343a\u0308\u0327l\u0300g\u0301o'],
    ['an RTL override', '\u202Eabc'],
    ['a zero-width-joiner family', '👨‍👩‍👧‍👦'],
    ['whitespace only', '   '],
  ])('accepts %s', (_name, value) => {
    expect(storedTextProblem(value, LIMITS)).toBeNull();
  });

  it.each([
    ['a NUL', 'a\u0000b', INVALID],
    ['a lone high surrogate', 'x\ud800y', INVALID],
    ['a lone high surrogate at the end', 'x\ud800', INVALID],
    ['a lone low surrogate', 'x\udc00y', INVALID],
    ['surrogates in the wrong order', '\udc00\ud800', INVALID],
    ['an empty string', '', 'must be 1..100 characters'],
    ['100 emoji with a variation selector (200 code points)', '❤️'.repeat(100), 'must be 1..100 characters'],
    ['101 astral characters', '𝕏'.repeat(101), 'must be 1..100 characters'],
    ['a number', 42, 'must be a string'],
    ['null', null, 'must be a string'],
  ])('refuses %s', (_name, value, problem) => {
    expect(storedTextProblem(value, LIMITS)).toBe(problem);
  });

  it('says "at most" when there is no lower bound', () => {
    expect(storedTextProblem('', { min: 0, max: 3 })).toBeNull();
    expect(storedTextProblem('abcd', { min: 0, max: 3 })).toBe('must be at most 3 characters');
  });

  it('accepts exactly the well-formed strings without NUL, counting code points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.nat({ max: 60 }), (s, max) => {
        const wellFormed = !/\0/.test(s) && Buffer.from(s, 'utf8').toString('utf8') === s;
        const expected = !wellFormed ? INVALID : codePoints(s) > max ? `must be at most ${max} characters` : null;
        expect(storedTextProblem(s, { min: 0, max })).toBe(expected);
      }),
    );
  });
});

describe('@StoredText', () => {
  class Named {
    @StoredText({ min: 1, max: 3 })
    name!: unknown;
  }

  const problems = async (name: unknown) => {
    const target = Object.assign(new Named(), { name });
    return (await validate(target)).flatMap((e) => Object.values(e.constraints ?? {}));
  };

  it('passes what storedTextProblem accepts and names the problem otherwise', async () => {
    expect(await problems('𝕏𝕏𝕏')).toEqual([]);
    expect(await problems('abcd')).toEqual(['name must be 1..3 characters']);
    expect(await problems('a\u0000')).toEqual([`name ${INVALID}`]);
    expect(await problems(7)).toEqual(['name must be a string']);
  });
});
