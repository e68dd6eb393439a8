import { isSingleEmoji } from '../../src/conversations/emoji';

describe('isSingleEmoji: the one emoji of a reaction', () => {
  it.each([
    ['a thumbs up', '👍'],
    ['a heart with a variation selector', '❤️'],
    ['a skin tone', '👍🏽'],
    ['a family (ZWJ sequence)', '👨‍👩‍👧‍👦'],
    ['a profession with a skin tone', '👩🏽‍💻'],
    ['the rainbow flag', '🏳️‍🌈'],
    ['a country flag', '🇮🇩'],
    ['a subdivision flag (tags)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['a keycap', '#️⃣'],
    ['a keycap without the selector', '1⃣'],
    ['a heart on fire', '❤️‍🔥'],
  ])('accepts %s', (_, value) => {
    expect(isSingleEmoji(value)).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['two emoji', '👍👍'],
    ['an emoji and a letter', '👍a'],
    ['an emoji and a space', '👍 '],
    ['a letter', 'a'],
    ['a digit', '1'],
    ['a word', 'ok'],
    ['a lone regional indicator', '🇮'],
    ['three regional indicators', '🇮🇩🇮'],
    ['two flags', '🇮🇩🇯🇵'],
    ['a lone skin tone', '🏽'],
    ['a NUL after an emoji', '👍\u0000'],
    ['a lone surrogate', '\ud83d'],
    ['a combining mark on an emoji', '👍\u0301'],
    ['a ZWJ at the end', '👍\u200d'],
    ['a CJK character', '字'],
  ])('refuses %s', (_, value) => {
    expect(isSingleEmoji(value)).toBe(false);
  });
});
