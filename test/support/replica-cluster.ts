import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { CAPABILITIES } from '../../src/auth/capability';
import { seedApiKey } from './api-key-seed';
import { EmbeddedPostgresServer, startEmbeddedPostgresServer } from './embedded-postgres-server';
import { GatewayProcess, HttpOptions, HttpResult } from './gateway-process';

/** The test-only entry point: the built gateway with stand-in sockets that log what they do. */
const ENTRY = join(__dirname, 'replica-gateway.ts');
const METRICS_TOKEN = 'replica-metrics';

/** One line of a replica's socket log (see replica-gateway.ts). */
export interface SocketEvent {
  t: number;
  pid: number;
  sid: string;
  sock: number;
  ev: 'create' | 'open' | 'send' | 'pairing-code' | 'logout' | 'end';
  id?: string;
}

export interface Replica {
  name: string;
  gateway: GatewayProcess;
  pid: number;
  logFile: string;
  /** When it was SIGSTOPped and not resumed since. */
  stoppedAt?: number;
  /** Every SIGSTOP..SIGCONT so far. */
  pauses: { from: number; to: number }[];
  /** When it was SIGKILLed. */
  killedAt?: number;
}

/**
 * N replicas of the built gateway on one PostgreSQL of their own (an embedded server), each with
 * stand-in WhatsApp sockets whose every act lands in a log the tests read, behind a round robin.
 */
export class ReplicaCluster {
  readonly replicas: Replica[] = [];
  private turn = 0;
  private started = 0;

  private constructor(
    readonly pg: EmbeddedPostgresServer,
    readonly dir: string,
    readonly orgId: string,
    private key: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(count: number, env: Record<string, string> = {}): Promise<ReplicaCluster> {
    const pg = await startEmbeddedPostgresServer();
    const dir = mkdtempSync(join(tmpdir(), 'wgw-replicas-'));
    const cluster = new ReplicaCluster(pg, dir, `org-replicas-${Date.now().toString(36)}`, '', env);
    try {
      // One first, so that the migrations run once; then the rest together.
      await cluster.add();
      cluster.key = await seedApiKey(pg.url, cluster.orgId, CAPABILITIES);
      await Promise.all(Array.from({ length: count - 1 }, () => cluster.add()));
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** Starts one more replica. */
  async add(): Promise<Replica> {
    this.started += 1;
    const name = `r${this.started}`;
    const logFile = join(this.dir, `${name}.jsonl`);
    writeFileSync(logFile, '');
    const gateway = await GatewayProcess.start({
      entry: ENTRY,
      nodeArgs: ['-r', 'ts-node/register/transpile-only'],
      echo: process.env.REPLICAS_ECHO === '1',
      env: {
        DATABASE_URL: this.pg.url,
        WA_PROVIDER: 'baileys',
        METRICS_TOKEN,
        FAKE_SOCKET_LOG: logFile,
        FAKE_CONTROL_FILE: join(this.dir, 'control.json'),
        // The same key on every replica: any of them may hold any session.
        SESSION_ENCRYPTION_KEY: '7a'.repeat(32),
        ...this.env,
      },
    });
    const replica: Replica = { name, gateway, pid: gateway.pid, logFile, pauses: [] };
    this.replicas.push(replica);
    return replica;
  }

  /** Replicas running and not stopped. */
  serving(): Replica[] {
    return this.replicas.filter((r) => r.gateway.alive() && r.stoppedAt === undefined);
  }

  /** The next serving replica of the round robin. */
  next(): Replica {
    const serving = this.serving();
    if (serving.length === 0) throw new Error('no replica is serving');
    this.turn += 1;
    return serving[this.turn % serving.length];
  }

  /** The organization's credential, as an `Authorization` header value. */
  get authorization(): string {
    return `Bearer ${this.key}`;
  }

  /** A request as the organization's key, through `via` or the next replica of the round robin. */
  api(method: string, path: string, body?: unknown, via: Replica = this.next(), options: HttpOptions = {}): Promise<HttpResult> {
    return via.gateway.request(path, {
      timeoutMs: 30_000,
      ...options,
      method,
      body,
      headers: { authorization: this.authorization, ...options.headers },
    });
  }

  /** `gateway_sessions_held` of a replica. */
  async held(replica: Replica): Promise<number> {
    const res = await replica.gateway.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, timeoutMs: 5_000 });
    const line = /^gateway_sessions_held (\d+)$/m.exec(res.text);
    if (!line) throw new Error(`no gateway_sessions_held from ${replica.name}: ${res.status}`);
    return Number(line[1]);
  }

  kill(replica: Replica): void {
    replica.killedAt = Date.now();
    replica.gateway.signal('SIGKILL');
  }

  pause(replica: Replica): void {
    replica.stoppedAt ??= Date.now();
    replica.gateway.signal('SIGSTOP');
  }

  resume(replica: Replica): void {
    replica.pauses.push({ from: replica.stoppedAt!, to: Date.now() });
    replica.stoppedAt = undefined;
    replica.gateway.signal('SIGCONT');
  }

  /** New sockets show a QR and wait (true), or pair at once (false). */
  holdPairing(hold: boolean): void {
    writeFileSync(join(this.dir, 'control.json'), JSON.stringify({ holdPairing: hold }));
  }

  /** Every socket act of every replica so far, in time order. */
  socketEvents(): SocketEvent[] {
    const events: SocketEvent[] = [];
    for (const replica of this.replicas) {
      if (!existsSync(replica.logFile)) continue;
      for (const line of readFileSync(replica.logFile, 'utf8').split('\n')) {
        // A line cut by a SIGKILL is not a whole act.
        if (line.endsWith('}')) events.push(JSON.parse(line) as SocketEvent);
      }
    }
    return events.sort((a, b) => a.t - b.t);
  }

  /** The sessions each replica has a socket open for right now (by its log), by replica pid. */
  openSockets(events = this.socketEvents()): Map<number, Set<string>> {
    const open = new Map<number, Map<string, number>>();
    for (const e of events) {
      const sockets = open.get(e.pid) ?? new Map<string, number>();
      open.set(e.pid, sockets);
      if (e.ev === 'create') sockets.set(e.sid, e.sock);
      else if (e.ev === 'end' && sockets.get(e.sid) === e.sock) sockets.delete(e.sid);
    }
    const result = new Map<number, Set<string>>();
    for (const replica of this.replicas) {
      if (replica.gateway.alive()) result.set(replica.pid, new Set(open.get(replica.pid)?.keys() ?? []));
    }
    return result;
  }

  async sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.pg.url });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  logs(): string {
    return this.replicas.map((r) => `--- ${r.name} (pid ${r.pid})\n${r.gateway.logs()}`).join('\n');
  }

  async close(): Promise<void> {
    for (const replica of this.replicas) {
      if (replica.stoppedAt !== undefined) replica.gateway.signal('SIGCONT');
      if (replica.gateway.alive()) replica.gateway.signal('SIGKILL');
    }
    await Promise.all(this.replicas.map((r) => r.gateway.waitForExit(10_000).catch(() => undefined)));
    await this.pg.destroy();
    // Kept on request, to read what the sockets did after a failure.
    if (process.env.REPLICAS_KEEP_LOGS === '1') process.stderr.write(`socket logs kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Sockets of one session open at the same time, from the socket logs: each socket lives from its
 * `create` until its `end`, its process's SIGKILL, or now; a socket of a paused process counts as
 * open only until the pause (a frozen process does nothing with it; closing it on resume is
 * checked on its own). Returns a description of each overlap.
 */
export function socketOverlaps(cluster: ReplicaCluster, events = cluster.socketEvents()): string[] {
  const now = Date.now();
  const replicaOf = new Map(cluster.replicas.map((r) => [r.pid, r]));
  const lives = new Map<string, { key: string; from: number; to: number }[]>();
  const byKey = new Map<string, { key: string; from: number; to: number }>();
  for (const e of events) {
    const key = `${e.pid}/${e.sock}`;
    if (e.ev === 'create') {
      const life = { key, from: e.t, to: Infinity };
      byKey.set(key, life);
      lives.set(e.sid, [...(lives.get(e.sid) ?? []), life]);
    } else if (e.ev === 'end' && byKey.has(key)) {
      byKey.get(key)!.to = e.t;
    }
  }
  for (const [key, life] of byKey) {
    const replica = replicaOf.get(Number(key.split('/')[0]))!;
    let to = Math.min(life.to, replica.killedAt ?? Infinity, now);
    for (const pause of [...replica.pauses, ...(replica.stoppedAt ? [{ from: replica.stoppedAt, to: now }] : [])]) {
      if (pause.from >= life.from && pause.from < to) to = pause.from;
    }
    life.to = to;
  }
  const problems: string[] = [];
  for (const [sid, list] of lives) {
    const sorted = [...list].sort((a, b) => a.from - b.from);
    let latest = sorted[0];
    for (const life of sorted.slice(1)) {
      if (life.from < latest.to) problems.push(`session ${sid}: socket ${life.key} opened ${latest.to - life.from} ms before socket ${latest.key} ended`);
      if (life.to > latest.to) latest = life;
    }
  }
  return problems;
}

/** The `q` quantile (0..1) of `values`, nearest rank. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 200 ms until it gives a value (not undefined or false); fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
