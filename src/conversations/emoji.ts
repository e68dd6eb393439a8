/** Extended grapheme clusters, as a person sees characters. */
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * One emoji as UTS #51 builds them: a flag (two regional indicators), a keycap, or a pictograph
 * with an optional skin tone or presentation selector (or a subdivision flag's tags), joined by
 * ZWJ to more of them (families, professions, the rainbow flag).
 */
const PICTOGRAPH = '\\p{Extended_Pictographic}[\\p{Emoji_Modifier}\\uFE0F]*';
const EMOJI = new RegExp(
  `^(?:\\p{Regional_Indicator}{2}|[0-9#*]\\uFE0F?\\u20E3|${PICTOGRAPH}(?:[\\u{E0020}-\\u{E007E}]+\\u{E007F})?(?:\\u200D${PICTOGRAPH})*)$`,
  'u',
);

/** Whether `value` is exactly one emoji: one grapheme cluster, and that cluster an emoji. */
export function isSingleEmoji(value: string): boolean {
  const segments = graphemes.segment(value)[Symbol.iterator]();
  const first = segments.next();
  if (first.done || !segments.next().done) return false;
  return EMOJI.test(first.value.segment);
}
