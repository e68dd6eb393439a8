import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, IncomingHttpHeaders } from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const ENTRY = join(ROOT, 'dist', 'main.js');
/** How much of the child's output is kept: enough for the last lines around a failure. */
const OUTPUT_LIMIT = 256 * 1024;

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON; read like supertest's. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  ms: number;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The request is abandoned (rejected with `timeout`) after this long. */
  timeoutMs?: number;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the moment the signal was sent (or the wait began) until the process was gone. */
  ms: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request on a fresh connection (no keep-alive), JSON in and out. */
export function httpJson(baseUrl: string, path: string, options: HttpOptions = {}): Promise<HttpResult> {
  const started = Date.now();
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = { connection: 'close', ...options.headers };
  if (payload) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolveResult, reject) => {
    const req = httpRequest(new URL(path, baseUrl), { method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolveResult({ status: res.statusCode ?? 0, headers: res.headers, text, body, ms: Date.now() - started });
      });
    });
    req.on('error', reject);
    if (options.timeoutMs) {
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    }
    req.end(payload);
  });
}

export interface GatewayProcessOptions {
  /** Environment of the child on top of the harness defaults; `DATABASE_URL` is required. */
  env: Record<string, string>;
  /** How long to wait for `/health/ready` to answer 200. */
  readyTimeoutMs?: number;
  /** Also echo the child's output to this process's stderr (debugging a run). */
  echo?: boolean;
  /** The compiled entry point to run; `dist/main.js` of this tree by default. */
  entry?: string;
  /** Node options placed before the entry point (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Working directory (the tree's root by default) and, run by root, the user to run as. */
  cwd?: string;
  uid?: number;
  gid?: number;
}

/**
 * The compiled gateway (`node dist/main.js`, as production starts it) as a child process on a
 * free port: started, waited for until ready, measured (RSS), signalled and reaped.
 */
export class GatewayProcess {
  private output = '';
  private exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const entry = options.entry ?? ENTRY;
    await waitForBuild(entry);
    const port = await freePort();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry], {
      cwd: options.cwd ?? ROOT,
      uid: options.uid,
      gid: options.gid,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        WA_PROVIDER: 'external',
        RATE_LIMIT_PER_MINUTE: '0',
        AUTH_FAILURE_LIMIT_PER_MINUTE: '0',
        // A fixed key keeps the child from generating one under the working tree's data folder.
        SESSION_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        ...options.env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gateway = new GatewayProcess(child, port);
    gateway.exit = new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        gateway.output = (gateway.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
        if (options.echo) process.stderr.write(chunk);
      });
    }
    try {
      await gateway.waitUntilReady(options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return gateway;
  }

  /** Polls `/health/ready` until it answers 200. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive()) throw new Error(`gateway exited before it was ready:\n${this.logs()}`);
      const ready = await this.request('/health/ready', { timeoutMs: 2000 }).catch(() => undefined);
      if (ready?.status === 200) return;
      await sleep(100);
    }
    throw new Error(`gateway not ready within ${timeoutMs} ms:\n${this.logs()}`);
  }

  request(path: string, options: HttpOptions = {}): Promise<HttpResult> {
    return httpJson(this.baseUrl, path, options);
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident set size of the process now, in bytes (Linux `/proc`). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!kb) throw new Error(`no VmRSS for process ${this.pid}`);
    return Number(kb[1]) * 1024;
  }

  /** CPU time the process has used so far (user + system), in milliseconds (Linux `/proc`). */
  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  /** What the process wrote to stdout and stderr (the last 256 KiB). */
  logs(): string {
    return this.output;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits for the process to exit; rejects when it is still running after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ExitResult> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gateway still running after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const exit = await Promise.race([this.exit!, timeout]);
      return { ...exit, ms: Date.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` and waits for the exit; a process that ignores it is killed after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ExitResult> {
    if (!this.alive()) return { ...(await this.exit!), ms: 0 };
    this.signal(signal);
    try {
      return await this.waitForExit(timeoutMs);
    } catch (error) {
      this.signal('SIGKILL');
      await this.exit;
      throw error;
    }
  }
}

/** `/proc` counts CPU time in ticks of USER_HZ, which is 100 on the platforms Node supports. */
const MS_PER_TICK = 10;

/** CPU time (user + system) that process `pid` has used, in milliseconds, from `/proc/<pid>/stat`. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

/** `npm run build` may be rewriting `dist/` right now; wait for the entry point to be there. */
async function waitForBuild(entry: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!existsSync(entry)) {
    if (Date.now() > deadline) throw new Error(`${entry} not found: run \`npm run build\` first`);
    await sleep(500);
  }
}
