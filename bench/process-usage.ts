import { Client } from 'pg';
import { GatewayProcess, processCpuMs } from '../test/support/gateway-process';

/** CPU milliseconds used meanwhile by the gateway, by its PostgreSQL backends and by this process (the load generator). */
export interface CpuUse {
  serverMs: number;
  postgresMs: number;
  loadMs: number;
}

/** Adds up CPU use across the rounds of a scenario. */
export function addCpu(a: CpuUse, b: CpuUse): CpuUse {
  return { serverMs: a.serverMs + b.serverMs, postgresMs: a.postgresMs + b.postgresMs, loadMs: a.loadMs + b.loadMs };
}

export const NO_CPU: CpuUse = { serverMs: 0, postgresMs: 0, loadMs: 0 };

/**
 * Measures the CPU time that each party uses while the work runs: where the time of a request
 * goes, whatever else the machine is doing. PostgreSQL's share is that of the gateway's own
 * backends (from `pg_stat_activity`); NaN when the server is not on this machine.
 */
export class CpuMeter {
  private constructor(
    private readonly gateway: GatewayProcess,
    private readonly client: Client,
  ) {}

  static async open(gateway: GatewayProcess, databaseUrl: string): Promise<CpuMeter> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    return new CpuMeter(gateway, client);
  }

  async measure<T>(work: () => Promise<T>): Promise<[T, CpuUse]> {
    const before = { server: this.gateway.cpuMs(), postgres: await this.backendsCpu(), load: process.cpuUsage() };
    const result = await work();
    const load = process.cpuUsage(before.load);
    const serverMs = this.gateway.cpuMs() - before.server;
    let postgresMs = 0;
    // A backend that the pool opened meanwhile counts from zero.
    for (const [pid, ms] of await this.backendsCpu()) postgresMs += ms - (before.postgres.get(pid) ?? 0);
    return [result, { serverMs, postgresMs, loadMs: (load.user + load.system) / 1000 }];
  }

  close(): Promise<void> {
    return this.client.end();
  }

  private async backendsCpu(): Promise<Map<number, number>> {
    const { rows } = await this.client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'whatsapp-gateway'",
    );
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        cpu.set(pid, processCpuMs(pid));
      } catch {
        return new Map([[-1, NaN]]);
      }
    }
    return cpu;
  }
}

/** Samples the gateway's resident memory every 200 ms: the peak of the whole run and of each phase. */
export class RssSampler {
  private peak = 0;
  private phasePeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly gateway: GatewayProcess) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }

  /** The peak since the last call (or the start), in MiB; starts the next phase. */
  phasePeakMb(): number {
    this.sample();
    const peak = this.phasePeak;
    this.phasePeak = 0;
    return peak / 2 ** 20;
  }

  peakMb(): number {
    this.sample();
    return this.peak / 2 ** 20;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    let rss: number;
    try {
      rss = this.gateway.rssBytes();
    } catch {
      return; // the process is gone; the run reports that itself
    }
    this.peak = Math.max(this.peak, rss);
    this.phasePeak = Math.max(this.phasePeak, rss);
  }
}
