import { ValidationError } from '../../src/common/errors/app-error';
import { encodeCursor } from '../../src/common/pagination/cursor';
import { comparePositions, decodeEventCursor, encodeEventCursor, laterOf, positionOf } from '../../src/events/event-position';

describe('event positions', () => {
  it('round-trip through a cursor', () => {
    for (const position of [{ xid: 0, seq: 0 }, { xid: 4817, seq: 120 }, { xid: 2 ** 40, seq: Number.MAX_SAFE_INTEGER }]) {
      expect(decodeEventCursor(encodeEventCursor(position), 'after')).toEqual(position);
    }
  });

  it('refuse other lists\' cursors, forged values and junk, naming the field', () => {
    const bad = [
      encodeCursor([1732400000000, '01HF7Z3K8Q2V5N9T4W6X0Y1B2C']),
      encodeCursor(['ev', -1, 0]),
      encodeCursor(['ev', 1, -1]),
      encodeCursor(['ev', 1.5, 0]),
      encodeCursor(['xx', 1, 1]),
      encodeCursor(['ev', 1]),
      'garbage',
      `${encodeEventCursor({ xid: 1, seq: 1 })}x`,
    ];
    for (const cursor of bad) {
      let error: unknown;
      try {
        decodeEventCursor(cursor, 'Last-Event-ID');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual({ fields: { 'Last-Event-ID': ['is not a valid event cursor'] } });
    }
  });

  it('order by transaction, then by seq', () => {
    expect(comparePositions({ xid: 5, seq: 900 }, { xid: 6, seq: 1 })).toBeLessThan(0);
    expect(comparePositions({ xid: 6, seq: 2 }, { xid: 6, seq: 1 })).toBeGreaterThan(0);
    expect(comparePositions({ xid: 6, seq: 1 }, { xid: 6, seq: 1 })).toBe(0);
    expect(laterOf({ xid: 6, seq: 0 }, { xid: 5, seq: 900 })).toEqual({ xid: 6, seq: 0 });
  });

  it('read from PostgreSQL\'s text, refusing what a number cannot hold exactly', () => {
    expect(positionOf('4817', '120')).toEqual({ xid: 4817, seq: 120 });
    expect(() => positionOf('18446744073709551615', '1')).toThrow(/out of range/);
  });
});
