import fc from 'fast-check';
import { backoffDelay, classifyClose } from '../../src/whatsapp/baileys/baileys-reconnect-policy';
import { loadFixture } from '../fixtures/baileys/load-fixture';

type Close = { lastDisconnect: { error: unknown } };

describe('classifyClose', () => {
  const updates = loadFixture<Record<string, Close>>('connection-updates.json');
  const errorOf = (name: string) => updates[name].lastDisconnect.error;

  it.each([
    ['closeRestartRequired', 'restart'],
    ['closeNetwork', 'retry'],
    ['closeWebSocketNoCode', 'retry'],
    ['closeConnectionClosed', 'retry'],
    ['closeQrRefsEnded', 'retry'],
    ['closeUnavailable', 'retry'],
    ['closeLoggedOut', 'logged-out'],
    ['closeReplaced', 'replaced'],
    ['closeForbidden', 'failed'],
    ['closeBadSession', 'failed'],
    ['closeMultideviceMismatch', 'failed'],
  ])('%s → %s', (name, action) => {
    expect(classifyClose(errorOf(name))).toBe(action);
  });

  it('retries a close without an error or with a plain one', () => {
    expect(classifyClose(undefined)).toBe('retry');
    expect(classifyClose(new Error('boom'))).toBe('retry');
  });
});

describe('backoffDelay', () => {
  const options = { baseMs: 1000, maxMs: 60_000 };

  it('doubles from the base up to the cap, with half of it jittered', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 30, 1000].map((n) => backoffDelay(n, options, 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000,
    ]);
    expect([0, 1, 6].map((n) => backoffDelay(n, options, 0.999999))).toEqual([1000, 2000, 60000]);
  });

  it('stays within [ceiling/2, ceiling] and never passes the cap', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
        const delay = backoffDelay(attempt, options, random);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });
});
