import { sleep, timedOut, withTimeout } from '../../src/common/time';
import { ManualClock } from '../fixtures/baileys/manual-clock';

/** Lets every settled promise run its reactions. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('time helpers', () => {
  it('sleep resolves once its time has passed, or at once when its signal aborts', async () => {
    const clock = new ManualClock();
    let slept = false;
    void sleep(1000, undefined, clock).then(() => (slept = true));
    clock.advance(999);
    await settle();
    expect(slept).toBe(false);
    clock.advance(1);
    await settle();
    expect(slept).toBe(true);

    const stop = new AbortController();
    let woken = false;
    void sleep(60_000, stop.signal, clock).then(() => (woken = true));
    stop.abort();
    await settle();
    expect(woken).toBe(true);
    expect(clock.pendingDelays()).toEqual([]);
    // Aborted already: no timer at all.
    await sleep(60_000, stop.signal, clock);
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('withTimeout answers with the promise when it settles first, and clears its timer', async () => {
    const clock = new ManualClock();
    await expect(withTimeout(Promise.resolve('done'), 1000, () => 'late', clock)).resolves.toBe('done');
    await expect(withTimeout(Promise.reject(new Error('failed')), 1000, () => 'late', clock)).rejects.toThrow('failed');
    expect(clock.pendingDelays()).toEqual([]);
  });

  it('withTimeout answers with onTimeout when the time passes first, as a value or a failure', async () => {
    const clock = new ManualClock();
    const never = new Promise<string>(() => undefined);
    const value = withTimeout(never, 1000, () => 'timeout' as const, clock);
    const failure = withTimeout(never, 2000, timedOut('took too long'), clock);
    expect(clock.pendingDelays()).toEqual([1000, 2000]);
    clock.advance(2000);
    await expect(value).resolves.toBe('timeout');
    await expect(failure).rejects.toThrow('took too long');
  });

  it('runs on the process timers by default', async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    await expect(withTimeout(new Promise(() => undefined), 20, () => 'timeout')).resolves.toBe('timeout');
  });
});
