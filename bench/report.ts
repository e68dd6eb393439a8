import { ProfileSummary } from './cpu-profile';
import { HttpResult } from './http-load';
import { IngestResult } from './ingest-load';
import { CpuUse } from './process-usage';
import { PageCost } from './seed';

export type Bench = Record<string, number>;

export interface Target {
  name: string;
  met: boolean;
  measured: string;
}

export const log = (line = ''): void => void process.stdout.write(`${line}\n`);

export function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const row of rows) log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}

const perUnit = (ms: number, units: number): string => (Number.isFinite(ms) && units > 0 ? ((ms * 1000) / units).toFixed(0) : '-');

function cpuColumns(cpu: CpuUse, units: number): string[] {
  return [perUnit(cpu.serverMs, units), perUnit(cpu.postgresMs, units), perUnit(cpu.loadMs, units)];
}

export interface ScenarioRow {
  result: HttpResult;
  cpu: CpuUse;
  rssMb: number;
}

export type IngestRow = IngestResult & { cpu: CpuUse; rssMb: number };

/** The readable table: one line per scenario, with where its CPU time went. */
export function printScenarios(http: ScenarioRow[], ingest: IngestRow | undefined, batch: string): void {
  const rows = [['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MB', 'CPU µs/req: server', 'postgres', 'load gen']];
  for (const { result: r, cpu, rssMb } of http) {
    rows.push([
      r.name,
      r.rps.toFixed(0),
      r.p50Ms.toFixed(1),
      r.p99Ms.toFixed(1),
      String(r.errors),
      rssMb.toFixed(0),
      ...cpuColumns(cpu, r.requests),
    ]);
  }
  if (ingest) {
    rows.push([
      `ingest ${batch}: msgs/s (CPU per message)`,
      ingest.messagesPerSec.toFixed(0),
      ingest.p50Ms.toFixed(1),
      ingest.p99Ms.toFixed(1),
      String(ingest.errors),
      ingest.rssMb.toFixed(0),
      ...cpuColumns(ingest.cpu, ingest.storedMessages),
    ]);
  }
  printTable(rows);
  if (ingest) {
    log(
      `\ningestion: ${ingest.acceptedBatches} of ${ingest.batches} batches accepted; ${ingest.storedMessages} of their messages ` +
        `counted in PostgreSQL afterwards, ${ingest.incompleteBatches} batches incomplete; ${ingest.wallSeconds.toFixed(1)} s wall`,
    );
  }
}

export function printPageCosts(costs: PageCost[]): void {
  log();
  const rows = [['the deep page in SQL', 'rows', 'median ms', 'p95 ms', 'EXPLAIN ms', 'buffers', 'runs']];
  for (const c of costs) {
    rows.push([
      c.name,
      String(c.rows),
      c.medianMs.toFixed(3),
      c.p95Ms.toFixed(3),
      c.executionMs.toFixed(3),
      String(c.sharedBuffers),
      String(c.runs),
    ]);
  }
  printTable(rows);
}

export function printProfile(profile: ProfileSummary): void {
  log(`\nserver CPU profile (whole run, ${(profile.busyMs / 1000).toFixed(1)} s busy), self time by place`);
  for (const share of profile.byPlace) log(`  ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  log('with what they call (inclusive)');
  for (const share of profile.byPlaceInclusive) log(`  ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  log('top functions, self time');
  for (const share of profile.byFunction) log(`  ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
}

/** The targets, for the scenarios that ran. */
export function checkTargets(bench: Bench): Target[] {
  const has = (...keys: string[]) => keys.every((k) => Number.isFinite(bench[k]));
  const targets: Target[] = [];
  if (has('firstPageRps', 'floorRps')) {
    const ratio = bench.firstPageRps / bench.floorRps;
    targets.push({ name: 'firstPageRps >= 0.5 x floorRps', met: ratio >= 0.5, measured: `${ratio.toFixed(2)} x` });
  }
  if (has('firstPageP99Ms')) {
    targets.push({ name: 'firstPageP99Ms < 50', met: bench.firstPageP99Ms < 50, measured: `${bench.firstPageP99Ms} ms` });
  }
  if (has('deepPageRps', 'firstPageRps')) {
    const ratio = bench.deepPageRps / bench.firstPageRps;
    targets.push({ name: 'deepPageRps >= 0.9 x firstPageRps', met: ratio >= 0.9, measured: `${ratio.toFixed(2)} x` });
  }
  if (has('offsetDeepMs', 'keysetDeepMs')) {
    const ratio = bench.offsetDeepMs / bench.keysetDeepMs;
    targets.push({ name: 'offsetDeepMs / keysetDeepMs >= 20', met: ratio >= 20, measured: `${ratio.toFixed(0)} x` });
  }
  if (has('ingestMsgsPerSec')) {
    targets.push({
      name: 'ingestMsgsPerSec >= 20000, all stored',
      met: bench.ingestMsgsPerSec >= 20_000 && bench.ingestIncompleteBatches === 0,
      measured: `${bench.ingestMsgsPerSec}/s, ${bench.ingestIncompleteBatches} batches incomplete`,
    });
  }
  if (has('reactionsIngestRatio')) {
    targets.push({
      name: 'history sync with 1 reaction per 5 messages >= 0.8 x without',
      met: bench.reactionsIngestRatio >= 0.8,
      measured: `${bench.historyWithReactionsMsgsPerSec} vs ${bench.historyMsgsPerSec} messages/s (${bench.reactionsIngestRatio} x)`,
    });
  }
  if (has('mediaSmallRps', 'firstPageRps')) {
    const ratio = bench.mediaSmallRps / bench.firstPageRps;
    targets.push({ name: 'mediaSmallRps >= 0.5 x firstPageRps', met: ratio >= 0.5, measured: `${ratio.toFixed(2)} x` });
  }
  if (has('media16MBps', 'raw16MBps')) {
    const ratio = bench.raw16MBps / bench.media16MBps;
    targets.push({ name: '16 MiB served within 2 x raw fs stream', met: ratio <= 2, measured: `${bench.media16MBps} vs ${bench.raw16MBps} MB/s` });
  }
  if (has('mediaRangeP99Ms')) {
    targets.push({ name: 'mediaRangeP99Ms < 20 (1 MiB of 64 MiB, a player seeking)', met: bench.mediaRangeP99Ms < 20, measured: `${bench.mediaRangeP99Ms} ms` });
  }
  if (has('upload16Ms', 'diskWrite16Ms')) {
    const ratio = bench.upload16Ms / bench.diskWrite16Ms;
    targets.push({ name: '16 MiB multipart upload within 2 x disk write', met: ratio <= 2, measured: `${bench.upload16Ms} vs ${bench.diskWrite16Ms} ms` });
  }
  if (has('serve64RssGrowthMb', 'upload64RssGrowthMb')) {
    const growth = Math.max(bench.serve64RssGrowthMb, bench.upload64RssGrowthMb);
    targets.push({ name: 'RSS growth < 32 MiB with 64 MiB files', met: growth < 32, measured: `serve ${bench.serve64RssGrowthMb}, upload ${bench.upload64RssGrowthMb} MiB` });
  }
  if (has('ingestWithWebhookMsgsPerSec', 'ingestMsgsPerSec')) {
    const ratio = bench.ingestWithWebhookMsgsPerSec / bench.ingestMsgsPerSec;
    targets.push({ name: 'ingestWithWebhookMsgsPerSec >= 0.6 x ingestMsgsPerSec', met: ratio >= 0.6, measured: `${ratio.toFixed(2)} x` });
  }
  if (has('webhookDeliveriesPerSec')) {
    const rate = bench.webhookDeliveriesPerSec;
    targets.push({ name: 'webhookDeliveriesPerSec >= 2000', met: rate >= 2000, measured: `${rate}/s` });
  }
  if (has('deliveryP50Ms', 'deliveryP99Ms')) {
    targets.push({
      name: 'delivery p50 < 50 ms, p99 < 250 ms at 500 events/s',
      met: bench.deliveryP50Ms < 50 && bench.deliveryP99Ms < 250,
      measured: `${bench.deliveryP50Ms} / ${bench.deliveryP99Ms} ms`,
    });
  }
  if (has('backlogDrainPerSec')) {
    targets.push({ name: 'backlogDrainPerSec >= 1000', met: bench.backlogDrainPerSec >= 1000, measured: `${bench.backlogDrainPerSec}/s` });
  }
  if (has('undelivered')) {
    targets.push({
      name: 'undelivered = 0, no bad signature, no duplicate',
      met: bench.undelivered === 0 && bench.badSignatures === 0 && bench.webhookDuplicates === 0,
      measured: `${bench.undelivered} undelivered, ${bench.badSignatures} bad, ${bench.webhookDuplicates} duplicates`,
    });
  }
  if (has('feedPageRps', 'firstPageRps')) {
    const ratio = bench.feedPageRps / bench.firstPageRps;
    targets.push({ name: 'feedPageRps >= 0.8 x firstPageRps', met: ratio >= 0.8, measured: `${ratio.toFixed(2)} x` });
  }
  if (has('contactsDeepPageRps', 'contactsFirstPageRps')) {
    const ratio = bench.contactsDeepPageRps / bench.contactsFirstPageRps;
    targets.push({
      name: 'contactsDeepPageRps within 10% of contactsFirstPageRps (page after 45,000 of 50,000)',
      met: ratio >= 0.9,
      measured: `${bench.contactsDeepPageRps} vs ${bench.contactsFirstPageRps} req/s (${ratio.toFixed(2)} x)`,
    });
  }
  if (has('streamFanoutP99Ms', 'streamRssMb')) {
    targets.push({
      name: '1000 streams: fan-out p99 < 1000 ms, RSS < 400 MB',
      met: bench.streamFanoutP99Ms < 1000 && bench.streamRssMb < 400,
      measured: `${bench.streamFanoutP99Ms} ms, ${bench.streamRssMb} MB`,
    });
  }
  targets.push({ name: 'rssMb < 300', met: bench.rssMb < 300, measured: `${bench.rssMb} MB` });
  targets.push({ name: 'errors = 0', met: bench.errors === 0, measured: String(bench.errors) });
  return targets;
}

export function printTargets(targets: Target[]): void {
  log();
  printTable([['target', 'measured', ''], ...targets.map((t) => [t.name, t.measured, t.met ? 'met' : 'MISSED'])]);
}

/** The last line: the numbers as JSON (a value that was not measured, NaN, is left out). */
export function printBenchLine(bench: Bench): void {
  log(`\nBENCH ${JSON.stringify(Object.fromEntries(Object.entries(bench).filter(([, v]) => Number.isFinite(v))))}`);
}
