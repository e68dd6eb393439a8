import { FixedWindowCounter } from '../../src/auth/rate-limit/fixed-window-counter';

describe('FixedWindowCounter', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    now = 10 * 60_000 + 15_000; // 15 s into a minute
  });

  it('allows `limit` hits a window, then reports exceeded with the seconds left', () => {
    const counter = new FixedWindowCounter(3, 60_000, 1000, clock);
    expect([1, 2, 3].map(() => counter.hit('a'))).toEqual([
      { limit: 3, remaining: 2, resetSeconds: 45, exceeded: false },
      { limit: 3, remaining: 1, resetSeconds: 45, exceeded: false },
      { limit: 3, remaining: 0, resetSeconds: 45, exceeded: false },
    ]);
    now += 4_500;
    expect(counter.hit('a')).toEqual({ limit: 3, remaining: 0, resetSeconds: 41, exceeded: true });
    expect(counter.hit('b').exceeded).toBe(false);
  });

  it('starts every key afresh when the window turns, and forgets the old keys', () => {
    const counter = new FixedWindowCounter(1, 60_000, 1000, clock);
    counter.hit('a');
    counter.hit('b');
    expect(counter.hit('a').exceeded).toBe(true);
    now += 45_000;
    expect(counter.size).toBe(2);
    expect(counter.hit('a')).toEqual({ limit: 1, remaining: 0, resetSeconds: 60, exceeded: false });
    expect(counter.size).toBe(1);
  });

  it('peeks without counting', () => {
    const counter = new FixedWindowCounter(2, 60_000, 1000, clock);
    expect(counter.peek('a').remaining).toBe(2);
    counter.hit('a');
    counter.hit('a');
    expect(counter.peek('a')).toEqual({ limit: 2, remaining: 0, resetSeconds: 45, exceeded: false });
    expect(counter.peek('a').remaining).toBe(0);
  });

  it('never reports less than one second to the reset', () => {
    const counter = new FixedWindowCounter(1, 60_000, 1000, clock);
    now = 11 * 60_000 - 1;
    expect(counter.hit('a').resetSeconds).toBe(1);
  });

  it('keeps memory bounded: keys past the bound are not tracked (and not refused)', () => {
    const counter = new FixedWindowCounter(1, 60_000, 100, clock);
    for (let i = 0; i < 1000; i++) counter.hit(`ip-${i}`);
    expect(counter.size).toBe(100);
    expect(counter.hit('ip-999').exceeded).toBe(false);
    expect(counter.hit('ip-0').exceeded).toBe(true);
  });
});
