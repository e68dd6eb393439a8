import { decodeCursor, encodeCursor } from '../../src/common/pagination/cursor';
import { ValidationError } from '../../src/common/errors/app-error';

describe('cursor', () => {
  it('round-trips values', () => {
    const cursor = encodeCursor([1732400000000, '3EB0C1A2B3C4D5E6']);
    expect(decodeCursor(cursor, ['number', 'string'])).toEqual([1732400000000, '3EB0C1A2B3C4D5E6']);
  });

  it('rejects garbage, truncation, tampering and the wrong shape with a validation error', () => {
    const cursor = encodeCursor([1732400000000, 'abc']);
    const tampered = `${cursor.slice(0, 3)}${cursor[3] === 'A' ? 'B' : 'A'}${cursor.slice(4)}`;
    for (const bad of ['', 'garbage', '.', 'x.y', cursor.slice(0, -1), cursor.slice(1), tampered, `${cursor}x`]) {
      expect(() => decodeCursor(bad, ['number', 'string'])).toThrow(ValidationError);
    }
    expect(() => decodeCursor(cursor, ['string', 'string'])).toThrow(ValidationError);
    expect(() => decodeCursor(encodeCursor([1.5, 'a']), ['number', 'string'])).toThrow(ValidationError);
  });
});
