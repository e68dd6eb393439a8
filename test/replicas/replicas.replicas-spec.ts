import { quantile, Replica, ReplicaCluster, sleep, SocketEvent, socketOverlaps, until } from '../support/replica-cluster';

/** The figures by default; smaller ones through the environment for a quick run. */
const SESSIONS = Number(process.env.REPLICAS_SESSIONS ?? '300');
const SENDS = Number(process.env.REPLICAS_SENDS ?? '1000');
const KILL_ROUNDS = Number(process.env.REPLICAS_KILL_ROUNDS ?? '5');
/** How long WhatsApp (the stand-in) takes to accept a send: kills land during attempts too. */
const SEND_MS = 200;
/** API.md §11: a dead or cut-off holder's sessions are connected again within this long. */
const TAKEOVER_LIMIT_MS = 15_000;

const chat = (n: number) => `62812${String(n).padStart(7, '0')}@s.whatsapp.net`;
const sendPath = (sid: string, jid: string) => `/api/v1/sessions/${sid}/chats/${encodeURIComponent(jid)}/messages`;

function report(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`REPLICAS ${name} ${JSON.stringify(figures)}\n`);
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index], index);
      }
    }),
  );
  return results;
}

describe('replicas that survive each other (3 built gateways on one PostgreSQL, stand-in WhatsApp)', () => {
  let c: ReplicaCluster;
  let sessions: string[] = [];
  /** The most sessions seen with a socket open on two replicas at one sampled instant. */
  let heldTwice = 0;
  let sampler: NodeJS.Timeout | undefined;

  const connected = async () =>
    Number((await c.sql<{ n: string }>(`SELECT count(*) AS n FROM sessions WHERE status = 'connected' AND deleted_at IS NULL`))[0].n);
  /** Sessions with a socket open, by replica. */
  const holdings = (events?: SocketEvent[]) => {
    const open = c.openSockets(events);
    return new Map(c.replicas.filter((r) => open.has(r.pid)).map((r) => [r, open.get(r.pid)!]));
  };
  const holderOf = (sid: string): Replica | undefined => [...holdings()].find(([, ids]) => ids.has(sid))?.[0];
  const statuses = async (ids: readonly string[]) =>
    new Map((await c.sql<{ id: string; status: string }>('SELECT id, status FROM messages WHERE id = ANY($1)', [ids])).map((m) => [m.id, m.status]));
  /**
   * Waits until every session is held, and the replicas hold no more than their share plus a
   * tenth each, and no fewer than their share minus a tenth.
   */
  const balanced = (timeoutMs: number) =>
    until('the sessions to spread evenly', timeoutMs, async () => {
      const serving = c.serving();
      const held = await Promise.all(serving.map((r) => c.held(r)));
      const share = Math.ceil(sessions.length / serving.length);
      const slack = Math.max(1, Math.ceil(share / 10));
      const all = held.reduce((a, b) => a + b, 0) === sessions.length;
      return all && held.every((n) => n >= share - slack && n <= share + slack) && held;
    });

  beforeAll(async () => {
    c = await ReplicaCluster.start(3, { FAKE_SEND_MS: String(SEND_MS) });
    c.holdPairing(false);
    sampler = setInterval(() => {
      const seen = new Map<string, number>();
      for (const [replica, ids] of holdings()) {
        // A frozen replica does nothing with its sockets; how fast it closes them on resume is checked on its own.
        const resumed = replica.pauses[replica.pauses.length - 1]?.to ?? 0;
        if (replica.stoppedAt !== undefined || Date.now() - resumed < 2_000) continue;
        for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      heldTwice = Math.max(heldTwice, [...seen.values()].filter((n) => n > 1).length);
    }, 250);
  }, 180_000);
  afterAll(async () => {
    clearInterval(sampler);
    await c?.close();
  });
  afterEach(() => {
    // What went wrong in a replica is in its log.
    if (process.env.REPLICAS_ECHO_ON_FAILURE === '1') process.stderr.write(c.logs());
  });

  it(`holds each of ${SESSIONS} sessions on exactly one replica, spread over the three`, async () => {
    const started = Date.now();
    sessions = await pool(
      Array.from({ length: SESSIONS }, (_, i) => i),
      12,
      async (i) => {
        const res = await c.api('POST', '/api/v1/sessions', { name: `phone ${i}` });
        if (res.status !== 201) throw new Error(`session create answered ${res.status}: ${res.text}`);
        return res.body.id as string;
      },
    );
    await until('every session to connect', 120_000, async () => (await connected()) === SESSIONS);
    const createdMs = Date.now() - started;

    const open = holdings();
    const counts = sessions.map((sid) => [...open.values()].filter((ids) => ids.has(sid)).length);
    expect(counts.filter((n) => n !== 1)).toEqual([]);
    const held = await Promise.all(c.replicas.map((r) => c.held(r)));
    expect(held.reduce((a, b) => a + b, 0)).toBe(SESSIONS);
    expect(Math.max(...held)).toBeLessThanOrEqual(0.6 * SESSIONS);
    report('spread', { sessions: SESSIONS, createdAndConnectedMs: createdMs, heldPerReplica: held });
  });

  it('connects every session of a SIGKILLed replica again on the others within 15 s, never on two at once', async () => {
    const open = holdings();
    const victim = [...open.keys()].sort((a, b) => open.get(b)!.size - open.get(a)!.size)[0];
    const orphans = [...open.get(victim)!];
    c.kill(victim);
    const killedAt = victim.killedAt!;
    await victim.gateway.waitForExit(10_000);

    const takenAt = await until('every orphan to open on another replica', 3 * TAKEOVER_LIMIT_MS, () => {
      const opened = new Map<string, number>();
      for (const e of c.socketEvents()) {
        if (e.ev === 'open' && e.pid !== victim.pid && e.t > killedAt && !opened.has(e.sid)) opened.set(e.sid, e.t);
      }
      return Promise.resolve(orphans.every((sid) => opened.has(sid)) && opened);
    });
    const takeovers = orphans.map((sid) => takenAt.get(sid)! - killedAt);
    await until('every session to read connected', 30_000, async () => (await connected()) === SESSIONS);
    const held = await Promise.all(c.serving().map((r) => c.held(r)));
    report('sigkill-takeover', {
      orphans: orphans.length,
      p50Ms: quantile(takeovers, 0.5),
      p99Ms: quantile(takeovers, 0.99),
      maxMs: Math.max(...takeovers),
      heldPerReplica: held,
    });
    expect(Math.max(...takeovers)).toBeLessThanOrEqual(TAKEOVER_LIMIT_MS);
    expect(held.reduce((a, b) => a + b, 0)).toBe(SESSIONS);
    expect(Math.max(...held)).toBeLessThanOrEqual(0.6 * SESSIONS);
    expect(socketOverlaps(c)).toEqual([]);
    expect(heldTwice).toBe(0);
  });

  it('gives a replica that joins its share of the sessions', async () => {
    const joinedAt = Date.now();
    const joined = await c.add();
    const held = await balanced(120_000);
    report('join', { spreadAfterMs: Date.now() - joinedAt, heldPerReplica: held, joinedHolds: await c.held(joined) });
    expect(socketOverlaps(c)).toEqual([]);
  });

  it(`sends ${SENDS} messages through a round robin of the replicas, each once, through the socket of the replica holding its session`, async () => {
    await until('every session to read connected', 30_000, async () => (await connected()) === sessions.length);
    const before = c.socketEvents().length;
    const accepted = new Map<string, { sid: string; at: number; via: number }>();
    const started = Date.now();
    const answers = await pool(
      Array.from({ length: SENDS }, (_, i) => i),
      24,
      async (i) => {
        const sid = sessions[Math.floor(Math.random() * sessions.length)];
        const via = c.next();
        const res = await c.api('POST', sendPath(sid, chat(i % 50)), { type: 'text', text: `message ${i}` }, via);
        if (res.status === 202) accepted.set(res.body.id as string, { sid, at: Date.now(), via: via.pid });
        return res.status === 202 ? null : `${res.status} via ${via.name} for ${sid}: ${res.text}`;
      },
    );
    expect(answers.filter((problem) => problem !== null)).toEqual([]);
    const ids = [...accepted.keys()];
    await until('every send to have its outcome', 90_000, async () => [...(await statuses(ids)).values()].every((s) => s !== 'pending'));
    const doneMs = Date.now() - started;

    const events = c.socketEvents();
    const sends = events.filter((e) => e.ev === 'send' && accepted.has(e.id!));
    const sendsOf = new Map<string, SocketEvent[]>();
    for (const e of sends) sendsOf.set(e.id!, [...(sendsOf.get(e.id!) ?? []), e]);
    const wrong: string[] = [];
    for (const [id, { sid }] of accepted) {
      const through = sendsOf.get(id) ?? [];
      if (through.length !== 1) wrong.push(`${id}: sent ${through.length} times`);
      else if (through[0].sid !== sid) wrong.push(`${id}: sent through a socket of session ${through[0].sid}, not ${sid}`);
      else if (events.some((e) => e.ev === 'end' && e.pid === through[0].pid && e.sock === through[0].sock && e.t < through[0].t)) {
        wrong.push(`${id}: sent through a socket that had ended`);
      }
    }
    const final = await statuses(ids);
    const latencies = ids.map((id) => sendsOf.get(id)?.[0]?.t ?? NaN).map((t, i) => t - accepted.get(ids[i])!.at).filter(Number.isFinite);
    const relayed = ids.filter((id) => sendsOf.get(id)?.[0]?.pid !== accepted.get(id)!.via).length;
    report('sends', {
      sends: SENDS,
      sent: [...final.values()].filter((s) => s === 'sent').length,
      sentByAnotherReplica: relayed,
      acceptedToSocketP50Ms: quantile(latencies, 0.5),
      acceptedToSocketP99Ms: quantile(latencies, 0.99),
      allDoneMs: doneMs,
      socketEventsSeen: events.length - before,
    });
    expect(wrong).toEqual([]);
    expect([...final.values()].filter((s) => s !== 'sent')).toEqual([]);
  });

  it('serves the QR and pairing codes from every replica, and a DELETE on another replica logs the number out on the holder', async () => {
    c.holdPairing(true);
    let sid: string;
    try {
      sid = (await c.api('POST', '/api/v1/sessions', { name: 'pairing' })).body.id as string;
      await until('the session to pair', 10_000, async () => (await c.api('GET', `/api/v1/sessions/${sid}`)).body.status === 'pairing');
    } finally {
      c.holdPairing(false);
    }
    const serving = c.serving();
    const qrs = await Promise.all(serving.map((r) => c.api('GET', `/api/v1/sessions/${sid}/qr`, undefined, r)));
    expect(qrs.map((r) => r.status)).toEqual(serving.map(() => 200));
    expect(new Set(qrs.map((r) => r.body.qr))).toEqual(new Set([`2@stand-in-qr-${sid}`]));
    const codes = await Promise.all(serving.map((r) => c.api('POST', `/api/v1/sessions/${sid}/pairing-code`, { phoneNumber: '6281234567890' }, r)));
    expect(codes.map((r) => [r.status, r.body.code])).toEqual(serving.map(() => [200, 'ABCD2EFG']));
    const pairingHolder = holderOf(sid)!;
    expect(c.socketEvents().filter((e) => e.sid === sid && e.ev === 'pairing-code').map((e) => e.pid)).toEqual(serving.map(() => pairingHolder.pid));

    // A connected number, deleted through a replica that does not hold it.
    const linked = sessions[sessions.length - 1];
    const holder = holderOf(linked)!;
    const deleted = await c.api('DELETE', `/api/v1/sessions/${linked}`, undefined, serving.find((r) => r !== holder));
    expect(deleted.status).toBe(204);
    sessions = sessions.slice(0, -1);
    // The 204 waited for the holder to log the number out and let the session go.
    const acts = c.socketEvents().filter((e) => e.sid === linked && e.pid === holder.pid).map((e) => e.ev);
    expect(acts.slice(-2)).toEqual(['logout', 'end']);
    expect(holderOf(linked)).toBeUndefined();
    // The pairing one too: its socket closes.
    expect((await c.api('DELETE', `/api/v1/sessions/${sid}`, undefined, serving.find((r) => r !== pairingHolder))).status).toBe(204);
    expect(c.socketEvents().filter((e) => e.sid === sid).map((e) => e.ev).slice(-1)).toEqual(['end']);
    expect(holderOf(sid)).toBeUndefined();
    report('relay', { replicas: serving.length, qrFromEveryReplica: true, pairingCodeFromEveryReplica: true, deleteOnNonHolder: acts.slice(-2) });
  });

  it(`leaves no send pending and sends none twice when holders are SIGKILLed between the 202 and the attempt (${KILL_ROUNDS} rounds), or at random`, async () => {
    const between: string[] = [];
    const random: string[] = [];
    let refused = 0;
    const perRound = 10;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const open = holdings();
      const victim = [...open.keys()].filter((r) => r.stoppedAt === undefined).sort((a, b) => open.get(b)!.size - open.get(a)!.size)[0];
      const targets = [...open.get(victim)!].sort(() => Math.random() - 0.5).slice(0, perRound);
      // Frozen first, so that it cannot attempt: the sends wait for it, and then for the next holder.
      c.pause(victim);
      for (const [i, sid] of targets.entries()) {
        const res = await c.api('POST', sendPath(sid, chat(i)), { type: 'text', text: `round ${round} #${i}` });
        // One the victim was giving away to another replica when it froze reads disconnected: 409.
        if (res.status === 202) between.push(res.body.id as string);
        else refused += 1;
      }
      c.kill(victim);
      await victim.gateway.waitForExit(10_000);
      await c.add();
      // Sent by the next holder; the next round must not kill it while it attempts them.
      const settling = between.slice(-targets.length);
      await until(`the sends of round ${round} to settle`, 90_000, async () => [...(await statuses(settling)).values()].every((s) => s !== 'pending'));
    }
    // Sends streaming in while a replica dies at a random moment, twice.
    for (let kill = 0; kill < 2; kill++) {
      let streaming = true;
      const stream = (async () => {
        for (let i = 0; streaming; i++) {
          const sid = sessions[Math.floor(Math.random() * sessions.length)];
          const res = await c.api('POST', sendPath(sid, chat(i % 20)), { type: 'text', text: `stream ${kill} #${i}` }).catch(() => null);
          if (res?.status === 202) random.push(res.body.id as string);
        }
      })();
      await sleep(1_000 + Math.random() * 2_000);
      const victim = c.serving()[Math.floor(Math.random() * c.serving().length)];
      c.kill(victim);
      await sleep(1_000);
      streaming = false;
      await stream;
      await victim.gateway.waitForExit(10_000);
      await c.add();
    }

    const ids = [...between, ...random];
    const started = Date.now();
    await until('no send to be pending', 120_000, async () => [...(await statuses(ids)).values()].every((s) => s !== 'pending'));
    const final = await statuses(ids);
    const sendCounts = new Map<string, number>();
    for (const e of c.socketEvents()) if (e.ev === 'send') sendCounts.set(e.id!, (sendCounts.get(e.id!) ?? 0) + 1);
    const twice = ids.filter((id) => (sendCounts.get(id) ?? 0) > 1);
    const sentWithoutSocket = ids.filter((id) => final.get(id) === 'sent' && sendCounts.get(id) !== 1);
    report('kills', {
      rounds: KILL_ROUNDS,
      killedBetween202AndAttempt: between.length,
      refusedAsNotConnected: refused,
      betweenSent: between.filter((id) => final.get(id) === 'sent').length,
      randomKills: 2,
      randomSends: random.length,
      randomSent: random.filter((id) => final.get(id) === 'sent').length,
      randomFailed: random.filter((id) => final.get(id) === 'failed').length,
      // Failed because the replica died during the attempt (WhatsApp may have it): never attempted again.
      randomFailedAfterReachingSocket: random.filter((id) => final.get(id) === 'failed' && sendCounts.get(id) === 1).length,
      settledAfterLastKillMs: Date.now() - started,
    });
    expect(between.length).toBeGreaterThanOrEqual(0.8 * KILL_ROUNDS * perRound);
    expect(ids.filter((id) => !['sent', 'failed'].includes(final.get(id) ?? ''))).toEqual([]);
    expect(twice).toEqual([]);
    expect(sentWithoutSocket).toEqual([]);
    // Not yet attempted when their holder died: the next holder sent them.
    expect(between.filter((id) => final.get(id) !== 'sent')).toEqual([]);
    expect(socketOverlaps(c)).toEqual([]);
  });

  it('moves the sessions of a replica frozen with SIGSTOP, which closes its sockets as soon as it resumes', async () => {
    await balanced(120_000);
    await until('every session to read connected', 30_000, async () => (await connected()) === sessions.length);
    const open = holdings();
    const victim = [...open.keys()].sort((a, b) => open.get(b)!.size - open.get(a)!.size)[0];
    const frozen = [...open.get(victim)!];
    c.pause(victim);
    const stoppedAt = victim.stoppedAt!;
    const takenAt = await until('every session of the frozen replica to open elsewhere', 3 * TAKEOVER_LIMIT_MS, () => {
      const opened = new Map<string, number>();
      for (const e of c.socketEvents()) {
        if (e.ev === 'open' && e.pid !== victim.pid && e.t > stoppedAt && !opened.has(e.sid)) opened.set(e.sid, e.t);
      }
      return Promise.resolve(frozen.every((sid) => opened.has(sid)) && opened);
    });
    const moves = frozen.map((sid) => takenAt.get(sid)! - stoppedAt);

    c.resume(victim);
    const resumedAt = Date.now();
    const closedAt = await until('the resumed replica to close its sockets', 10_000, () => {
      const ended = new Map<string, number>();
      for (const e of c.socketEvents()) if (e.pid === victim.pid && e.ev === 'end' && e.t >= resumedAt) ended.set(e.sid, e.t);
      return Promise.resolve(frozen.every((sid) => ended.has(sid)) && ended);
    });
    const closes = frozen.map((sid) => closedAt.get(sid)! - resumedAt);
    await sleep(2_000);
    const still = holdings().get(victim) ?? new Set<string>();
    report('sigstop', {
      sessions: frozen.length,
      movedP50Ms: quantile(moves, 0.5),
      movedP99Ms: quantile(moves, 0.99),
      closedAfterResumeMaxMs: Math.max(...closes),
    });
    expect(Math.max(...moves)).toBeLessThanOrEqual(TAKEOVER_LIMIT_MS);
    expect(Math.max(...closes)).toBeLessThanOrEqual(2_000);
    // Whatever it holds now it took afresh, with nobody else holding it.
    for (const sid of still) expect([...holdings()].filter(([, ids]) => ids.has(sid))).toHaveLength(1);
    expect(socketOverlaps(c)).toEqual([]);
    expect(heldTwice).toBe(0);
    // Once it has taken its share again, every session reads connected.
    await balanced(120_000);
    await until('every session to read connected', 30_000, async () => (await connected()) === sessions.length);
    const statuses = await c.sql<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM sessions WHERE deleted_at IS NULL GROUP BY status',
    );
    expect(statuses).toEqual([{ status: 'connected', n: String(sessions.length) }]);
  });
});
