import { ValidationError } from '../../src/common/errors/app-error';
import { encodeCursor } from '../../src/common/pagination/cursor';
import { decodePosition, encodePosition } from '../../src/common/pagination/keyset-position';
import { isChatJid } from '../../src/domain/jid';

describe('keyset positions', () => {
  it('round-trips a position exactly, millisecond timestamps and -1 included', () => {
    for (const [time, id] of [[1_732_400_000_123, '6281234567890@s.whatsapp.net'], [-1, '120363025246125888@g.us'], [0, '1@lid']] as const) {
      expect(decodePosition(encodePosition(time, id), isChatJid, -1)).toEqual([time, id]);
    }
  });

  it('refuses a checksummed cursor whose values its list cannot hold', () => {
    for (const cursor of [
      encodeCursor([1, 'not-a-jid']),
      encodeCursor([1, '6281234567890@s.whatsapp.net\u0000']),
      encodeCursor([-2, '6281234567890@s.whatsapp.net']),
      encodeCursor(['6281234567890@s.whatsapp.net', 1]),
      encodeCursor([1, '6281234567890@s.whatsapp.net', 'extra']),
    ]) {
      expect(() => decodePosition(cursor, isChatJid, -1)).toThrow(ValidationError);
    }
    expect(() => decodePosition(encodePosition(-1, 'A'), () => true)).toThrow(ValidationError);
  });
});
