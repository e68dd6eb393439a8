import { EventWaiters } from '../../src/events/event-waiters';

const never = new AbortController().signal;

describe('event waiters', () => {
  it('wake the waiters of one organization, or of all for *', async () => {
    const waiters = new EventWaiters();
    const a = waiters.arm('a');
    const b = waiters.arm('b');
    const woken: string[] = [];
    const waits = [a.wait(10_000, never).then(() => woken.push('a')), b.wait(10_000, never).then(() => woken.push('b'))];
    waiters.wake('a');
    await waits[0];
    expect(woken).toEqual(['a']);
    waiters.wake('*');
    await waits[1];
    expect(woken).toEqual(['a', 'b']);
  });

  it('keep a wake-up that came between arming and waiting', async () => {
    const waiters = new EventWaiters();
    const waiter = waiters.arm('a');
    waiters.wake('a');
    const began = Date.now();
    await waiter.wait(10_000, never);
    expect(Date.now() - began).toBeLessThan(1000);
  });

  it('end a wait on its timeout or its signal, and forget cancelled waiters', async () => {
    const waiters = new EventWaiters();
    await waiters.arm('a').wait(10, never);
    const abort = new AbortController();
    const waiting = waiters.arm('a').wait(10_000, abort.signal);
    abort.abort();
    await waiting;
    const cancelled = waiters.arm('a');
    cancelled.cancel();
    expect((waiters as unknown as { byOrg: Map<string, unknown> }).byOrg.size).toBe(0);
  });
});
