import pino from 'pino';
import { Writable } from 'node:stream';
import { AppError, NotFoundError, UnavailableError, ValidationError } from '../../src/common/errors/app-error';
import { GatewayEvent } from '../../src/domain/gateway-events';
import { IngestionSink } from '../../src/whatsapp/ingestion-sink';
import { BaileysTuning, DEFAULT_BAILEYS_TUNING } from '../../src/whatsapp/baileys/baileys-tuning';
import { classifyWriteFailure, SessionWriteQueue, WriteQueueBudget } from '../../src/whatsapp/baileys/session-write-queue';
import { ManualClock } from '../fixtures/baileys/manual-clock';

const SESSION = '01HF7Z3K8Q2V5N9T4W6X0Y1B2C';

function chatEvent(n: number): GatewayEvent {
  return { type: 'chat.upsert', chat: { id: `62811000000${String(n).padStart(2, '0')}@s.whatsapp.net` } };
}
const idOf = (event: GatewayEvent) => (event.type === 'chat.upsert' ? Number(event.chat.id.slice(9, 13)) : -1);

/** An ingestion stand-in that records what it took and fails as told. */
class RecordingSink extends IngestionSink {
  readonly batches: number[][] = [];
  /** Whether each written batch was marked as history. */
  readonly histories: boolean[] = [];
  calls = 0;
  failWith: ((events: GatewayEvent[]) => Error | null) | null = null;

  ingest(_sessionId: string, events: GatewayEvent[], history = false): Promise<unknown> {
    this.calls += 1;
    const error = this.failWith?.(events);
    if (error) return Promise.reject(error);
    this.batches.push(events.map(idOf));
    this.histories.push(history);
    return Promise.resolve({ events: events.length });
  }

  get written(): number[] {
    return this.batches.flat();
  }
}

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** Lets pending promise callbacks and immediates run. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

function setup(tuning: Partial<BaileysTuning> = {}, shared?: { budget: WriteQueueBudget; clock: ManualClock }, session = SESSION) {
  const clock = shared?.clock ?? new ManualClock();
  const sink = new RecordingSink();
  const { logger, lines } = capturingLogger();
  const queue = new SessionWriteQueue(
    session,
    sink,
    { ...DEFAULT_BAILEYS_TUNING, batchLingerMs: 0, maxBatchEvents: 3, writeRetry: { baseMs: 100, maxMs: 400 }, ...tuning },
    clock,
    logger,
    shared?.budget,
  );
  return { clock, sink, queue, lines };
}

const queueFull = (line: Record<string, unknown>) => String(line.msg).startsWith('write queues full');

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('SessionWriteQueue', () => {
  it('writes events in order, in batches of at most maxBatchEvents, batching what arrives together', async () => {
    const { sink, queue } = setup();
    queue.push(range(1, 2).map(chatEvent), 'live');
    queue.push(range(3, 7).map(chatEvent), 'history');
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.batches).toEqual([[1, 2], [3, 4, 5], [6, 7]]);
    expect(queue.size).toBe(0);
  });

  it('never mixes history and live events in one batch, and marks the history batches', async () => {
    const { sink, queue } = setup({ maxBatchEvents: 10 });
    queue.push(range(1, 2).map(chatEvent), 'history');
    queue.push(range(3, 4).map(chatEvent), 'live');
    queue.push(range(5, 6).map(chatEvent), 'history');
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.batches).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(sink.histories).toEqual([true, false, true]);
  });

  it('retries a batch with capped exponential backoff while the database is away, then keeps the order', async () => {
    const { sink, queue, clock, lines } = setup();
    let failures = 4;
    sink.failWith = () => (failures-- > 0 ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : null);
    queue.push(range(1, 3).map(chatEvent), 'live');
    const delays: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await settle();
      delays.push(...clock.pendingDelays());
      // Meanwhile more events arrive; they must land after the retried batch.
      if (attempt === 1) queue.push([chatEvent(4)], 'live');
      clock.advance(clock.pendingDelays()[0]);
    }
    // Half of min(400, 100·2^n) plus a jittered half (random fixed at 0.5).
    expect(delays).toEqual([75, 150, 300, 300]);
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.batches).toEqual([[1, 2, 3], [4]]);
    expect(lines.filter((l) => l.msg === 'could not write events; retrying')).toHaveLength(4);
  });

  it('forgets the status changes waiting while the database is away when told the session moved, and writes the rest', async () => {
    const { sink, queue, clock } = setup({ maxBatchEvents: 10 });
    let down = true;
    sink.failWith = () => (down ? new UnavailableError('database unavailable') : null);
    queue.push([chatEvent(1)], 'live');
    await settle();
    queue.push([{ type: 'session.status', status: 'connected' }, chatEvent(2), { type: 'session.status', status: 'disconnected' }], 'live');
    queue.dropStatuses();
    expect(queue.size).toBe(2);
    down = false;
    clock.advance(clock.pendingDelays()[0]);
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.batches).toEqual([[1], [2]]);
  });

  it('isolates an event the ingestion refuses, drops it with an error log, and writes the rest in order', async () => {
    const { sink, queue, lines } = setup({ maxBatchEvents: 5 });
    sink.failWith = (events) =>
      events.some((e) => idOf(e) === 3) ? new ValidationError('event 2 is invalid', { index: 2 }) : null;
    queue.push(range(1, 5).map(chatEvent), 'live');
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.written).toEqual([1, 2, 4, 5]);
    const refused = lines.filter((l) => l.msg === 'ingestion refused an event: gave it up');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 50, sessionId: SESSION, event: { type: 'chat.upsert', chatId: '6281100000003@s.whatsapp.net' } });
  });

  it('gives up a batch whose session was deleted, says so, and goes on', async () => {
    const { sink, queue, lines } = setup();
    sink.failWith = (events) => (idOf(events[0]) === 1 ? new NotFoundError('session not found') : null);
    queue.push(range(1, 3).map(chatEvent), 'live');
    await queue.drain(1000);
    queue.push([chatEvent(4)], 'live');
    await queue.drain(1000);
    expect(sink.written).toEqual([4]);
    expect(lines.find((l) => l.msg === 'session no longer exists: gave up its events')).toMatchObject({ events: 3 });
  });

  it('bounds memory: past maxQueuedEvents the oldest history goes first, counted in an error log', async () => {
    const { sink, queue, clock, lines } = setup({ maxBatchEvents: 2, maxQueuedEvents: 4 });
    let down = true;
    sink.failWith = () => (down ? new UnavailableError('database unavailable') : null);
    queue.push([chatEvent(1), chatEvent(2)], 'live'); // taken as the in-flight batch, retried
    await settle();
    queue.push(range(3, 6).map(chatEvent), 'history');
    queue.push([chatEvent(7), chatEvent(8)], 'live');
    const full = lines.find(queueFull);
    expect(full).toMatchObject({ level: 50, historyEvents: 2, liveEvents: 0, limit: 4 });
    expect(queue.size).toBe(6);
    down = false;
    clock.advance(clock.pendingDelays()[0]);
    expect(await queue.drain(1000)).toBe(true);
    // 3 and 4 (the oldest history chunk) were given up; nothing else was lost or reordered.
    expect(sink.written).toEqual([1, 2, 5, 6, 7, 8]);
  });

  it('gives up live events too when there is no history left to give up', async () => {
    const { sink, queue, lines } = setup({ maxBatchEvents: 2, maxQueuedEvents: 2 });
    sink.failWith = () => new UnavailableError('database unavailable');
    queue.push([chatEvent(1)], 'live');
    await settle();
    queue.push([chatEvent(2)], 'live');
    queue.push([chatEvent(3)], 'live');
    queue.push([chatEvent(4)], 'live');
    expect(lines.find(queueFull)).toMatchObject({ historyEvents: 0, liveEvents: 1 });
    expect(queue.size).toBe(3);
  });

  it('gives up nothing while writes succeed, however far the backlog is past the budget', async () => {
    const { sink, queue, lines } = setup({ maxBatchEvents: 2, maxQueuedEvents: 2 });
    // A slow but healthy database: the first write takes a while, and a history sync arrives meanwhile.
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const ingest = sink.ingest.bind(sink);
    sink.ingest = (sessionId, events) => slow.then(() => ingest(sessionId, events));
    queue.push([chatEvent(1), chatEvent(2)], 'live');
    await settle();
    queue.push(range(3, 10).map(chatEvent), 'history');
    expect(queue.size).toBe(10);
    release();
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.written).toEqual(range(1, 10));
    expect(lines.filter(queueFull)).toEqual([]);
  });

  it('gives up what piled up while writes succeeded once they start failing', async () => {
    const { sink, queue, clock, lines } = setup({ maxBatchEvents: 2, maxQueuedEvents: 4 });
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    sink.failWith = () => new UnavailableError('database unavailable');
    const failing = sink.ingest.bind(sink);
    sink.ingest = (sessionId, events) => slow.then(() => failing(sessionId, events));
    queue.push([chatEvent(1), chatEvent(2)], 'live');
    await settle();
    queue.push(range(3, 8).map(chatEvent), 'history');
    expect(lines.filter(queueFull)).toEqual([]);
    release();
    await settle();
    expect(lines.find(queueFull)).toMatchObject({ historyEvents: 2, liveEvents: 0, limit: 4 });
    sink.failWith = null;
    clock.advance(clock.pendingDelays()[0]);
    expect(await queue.drain(1000)).toBe(true);
    expect(sink.written).toEqual([1, 2, 5, 6, 7, 8]);
  });

  it('is one budget for every session of the process: the largest failing backlog gives up its history first', async () => {
    const shared = { budget: new WriteQueueBudget(6), clock: new ManualClock() };
    const big = setup({ maxBatchEvents: 2 }, shared, '01HF7Z3K8Q2V5N9T4W6X0Y1B2D');
    const small = setup({ maxBatchEvents: 2 }, shared, '01HF7Z3K8Q2V5N9T4W6X0Y1B2E');
    for (const { sink } of [big, small]) sink.failWith = () => new UnavailableError('database unavailable');
    big.queue.push([chatEvent(1)], 'live');
    small.queue.push([chatEvent(51)], 'live');
    await settle();
    big.queue.push(range(2, 5).map(chatEvent), 'history');
    small.queue.push(range(52, 53).map(chatEvent), 'live');
    expect(shared.budget.size).toBe(6);
    expect(big.lines.filter(queueFull)).toEqual([]);
    // Past the budget of the process, though each queue on its own is small.
    small.queue.push([chatEvent(54)], 'live');
    expect(big.lines.find(queueFull)).toMatchObject({ historyEvents: 2, liveEvents: 0, limit: 6 });
    expect(small.lines.filter(queueFull)).toEqual([]);
    expect(shared.budget.size).toBe(5);
    for (const { sink } of [big, small]) sink.failWith = null;
    shared.clock.advance(Math.max(...shared.clock.pendingDelays()));
    expect(await big.queue.drain(1000)).toBe(true);
    expect(await small.queue.drain(1000)).toBe(true);
    expect(big.sink.written).toEqual([1, 4, 5]);
    expect(small.sink.written).toEqual([51, 52, 53, 54]);
    expect(shared.budget.size).toBe(0);
  });

  it('close gives up what is left, with an error log, or an info log when that is expected', async () => {
    const first = setup();
    first.sink.failWith = () => new UnavailableError('database unavailable');
    first.queue.push(range(1, 5).map(chatEvent), 'live');
    await settle();
    first.queue.close('shutdown');
    expect(first.lines.find((l) => l.msg === 'gave up events not yet written')).toMatchObject({
      level: 50,
      pendingEvents: 2,
      inFlightEvents: 3,
      reason: 'shutdown',
    });
    expect(await first.queue.drain(1000)).toBe(true);
    first.queue.push([chatEvent(6)], 'live');
    expect(first.queue.size).toBe(0);

    const second = setup();
    second.sink.failWith = () => new UnavailableError('database unavailable');
    second.queue.push([chatEvent(1)], 'live');
    await settle();
    second.queue.close('session logged out', true);
    expect(second.lines.find((l) => l.msg === 'gave up events not yet written')).toMatchObject({ level: 30 });
  });

  it('drain reports a timeout while writes keep failing', async () => {
    const { sink, queue, clock } = setup();
    sink.failWith = () => new UnavailableError('database unavailable');
    queue.push([chatEvent(1)], 'live');
    await settle();
    const drained = queue.drain(5000);
    clock.advance(5000);
    expect(await drained).toBe(false);
  });
});

describe('classifyWriteFailure', () => {
  it.each<[string, string, unknown]>([
    ['database unreachable', 'retry', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['pool timeout', 'retry', new Error('timeout exceeded when trying to connect')],
    ['deadlock (TypeORM wrapped)', 'retry', Object.assign(new Error('deadlock'), { driverError: { code: '40P01' } })],
    ['serialization failure', 'retry', Object.assign(new Error('could not serialize'), { code: '40001' })],
    ['503 from a service', 'retry', new UnavailableError('database unavailable')],
    ['validation', 'reject', new ValidationError('event 0 is invalid')],
    ['check violation', 'reject', Object.assign(new Error('violates check constraint'), { code: '23514' })],
    ['bad data', 'reject', Object.assign(new Error('invalid byte sequence'), { code: '22021' })],
    ['a bug', 'reject', new TypeError('x is not a function')],
    ['another domain error', 'reject', new AppError('conflict', 'busy')],
    ['session deleted', 'session-gone', new NotFoundError('session not found')],
    ['unknown failure', 'retry', new Error('something odd')],
  ])('%s → %s', (_name, expected, error) => {
    expect(classifyWriteFailure(error)).toBe(expected);
  });
});
