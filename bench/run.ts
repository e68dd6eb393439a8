/**
 * The benchmark suite: the built gateway as a child process on a fresh, seeded database, driven
 * over loopback HTTP by autocannon in this process, every scenario in the same run. See
 * bench/README.md for the method.
 *
 *   npm run bench                      # 1,000,000 messages, 21 s per HTTP scenario
 *   npm run bench -- --quick           # 300,000 messages, 8 s per HTTP scenario (under 5 minutes)
 *   npm run bench -- --messages N --seconds S --rounds R --pool-size N --ingest-concurrency N
 *   npm run bench -- --quick --profile --only floor,firstPage
 *
 * Prints a table and, last, one `BENCH {json}` line; exits 1 when a target is missed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Capability } from '../src/auth/capability';
import { decodePosition } from '../src/common/pagination/keyset-position';
import { seedApiKey } from '../test/support/api-key-seed';
import { GatewayProcess } from '../test/support/gateway-process';
import { createTestDatabase } from '../test/support/test-database';
import { buildPrivately } from './build';
import { summarizeCpuProfiles } from './cpu-profile';
import { combineRounds, HttpResult, HttpScenario, runHttpScenario } from './http-load';
import { runStreamFanout, runWebhookScenarios, StreamBench, WebhookBench } from './events-load';
import { IngestTarget, runIngestScenario } from './ingest-load';
import { MediaBench, runMediaBench } from './media-load';
import { addCpu, CpuMeter, NO_CPU, RssSampler } from './process-usage';
import {
  Bench,
  checkTargets,
  IngestRow,
  log,
  printBenchLine,
  printPageCosts,
  printProfile,
  printScenarios,
  printTargets,
  ScenarioRow,
} from './report';
import { measurePageCosts, PageCost, seedMessages } from './seed';

const SCENARIOS = [
  'floor',
  'firstPage',
  'deepPage',
  'listChats',
  'getChat',
  'patchChat',
  'offset',
  'ingest',
  'reactions',
  'webhooks',
  'feed',
  'stream',
  'media',
] as const;
type ScenarioKey = (typeof SCENARIOS)[number];

interface Options {
  quick: boolean;
  messages: number;
  /** Measured seconds per HTTP scenario, split over `rounds`. */
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  connections: number;
  ingestSeconds: number;
  ingestConcurrency: number;
  poolSize: number;
  profile: boolean;
  only: Set<ScenarioKey>;
}

const DEEP = 0.9;
const PAGE = 50;
const WALK_PAGE = 100;
const BATCH = 500;
const USAGE =
  'use --quick, --messages N, --seconds S, --rounds R, --connections C, --ingest-concurrency N, --pool-size N, ' +
  `--profile, --only ${SCENARIOS.join(',')}`;

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const options: Options = {
    quick,
    messages: quick ? 300_000 : 1_000_000,
    seconds: quick ? 8 : 21,
    rounds: quick ? 2 : 3,
    warmupSeconds: 2,
    connections: 50,
    ingestSeconds: quick ? 8 : 20,
    ingestConcurrency: 6,
    poolSize: 10,
    profile: false,
    only: new Set(SCENARIOS),
  };
  const integer = (name: string, value: string | undefined, min: number): number => {
    if (!/^\d+$/.test(value ?? '') || Number(value) < min) throw new Error(`${name} needs an integer >= ${min} (${USAGE})`);
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') continue;
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--messages') options.messages = integer(arg, argv[++i], 10_000);
    else if (arg === '--seconds') options.seconds = options.ingestSeconds = integer(arg, argv[++i], 1);
    else if (arg === '--rounds') options.rounds = integer(arg, argv[++i], 1);
    else if (arg === '--connections') options.connections = integer(arg, argv[++i], 1);
    else if (arg === '--ingest-concurrency') options.ingestConcurrency = integer(arg, argv[++i], 1);
    else if (arg === '--pool-size') options.poolSize = integer(arg, argv[++i], 1);
    else if (arg === '--only') {
      const keys = (argv[++i] ?? '').split(',');
      if (keys.some((k) => !(SCENARIOS as readonly string[]).includes(k))) throw new Error(`--only: ${USAGE}`);
      options.only = new Set(keys as ScenarioKey[]);
    } else throw new Error(`unknown argument "${arg}" (${USAGE})`);
  }
  return options;
}

const elapsed = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Cleanup steps, run in reverse order once: at the end, on failure or on Ctrl-C. */
class Cleanup {
  private readonly steps: { name: string; run: () => unknown }[] = [];
  private done?: Promise<void>;

  add(name: string, run: () => unknown): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (error) {
          process.stderr.write(`cleanup: could not ${step.name}: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    })();
    return this.done;
  }
}

/** A GET with a key, JSON back; anything but 200 is a failure of the run. */
async function getJson<T>(baseUrl: string, path: string, key: string): Promise<T> {
  const res = await fetch(new URL(path, baseUrl), { headers: { authorization: `Bearer ${key}` } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Walks the chat's messages through the API, 100 a page, to `depth` of it; returns the cursor of
 * the page that starts there.
 */
async function walkToDepth(baseUrl: string, key: string, messagesPath: string, messages: number, depth: number): Promise<string> {
  const target = Math.floor(messages * depth);
  let seen = 0;
  let cursor: string | null = null;
  while (seen < target) {
    const limit = Math.min(WALK_PAGE, target - seen);
    const query = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { data: unknown[]; nextCursor: string | null } = await getJson(baseUrl, `${messagesPath}${query}`, key);
    seen += page.data.length;
    if (!page.nextCursor) throw new Error(`the walk ended after ${seen} messages, before ${target}`);
    cursor = page.nextCursor;
  }
  return cursor!;
}

/** The chats of each seeded session, most recently active first. */
async function chatsBySession(databaseUrl: string, perSession: number): Promise<Map<string, string[]>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ session_id: string; jids: string[] }>(
      `SELECT s.id AS session_id,
              ARRAY(SELECT jid FROM chats c WHERE c.session_id = s.id
                     ORDER BY COALESCE(last_message_at, -1) DESC, jid DESC LIMIT $1) AS jids
         FROM sessions s`,
      [perSession],
    );
    return new Map(rows.map((r) => [r.session_id, r.jids]));
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const runs = (key: ScenarioKey) => options.only.has(key);
  const cleanup = new Cleanup();
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\n${signal}: cleaning up\n`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }

  const started = performance.now();
  try {
    log(
      `bench: ${options.messages} messages; HTTP scenarios at ${options.connections} connections, ${options.seconds} s each ` +
        `in ${options.rounds} interleaved rounds after ${options.warmupSeconds} s of warm-up; pool ${options.poolSize}` +
        `${options.quick ? '; quick' : ''}`,
    );

    let t = performance.now();
    const build = await buildPrivately();
    cleanup.add('remove the build', () => build.remove());
    log(`built in ${elapsed(t)}`);

    const database = await createTestDatabase('bench', process.env.BENCH_DATABASE_URL);
    cleanup.add('drop the database', () => database.drop());
    log(`database ${new URL(database.url).pathname.slice(1)} on ${new URL(database.url).host}`);

    const profileDir = options.profile ? mkdtempSync(join(tmpdir(), 'wgw-bench-profile-')) : undefined;
    if (profileDir) cleanup.add('remove the profile', () => rmSync(profileDir, { recursive: true, force: true }));
    // Media files go to a directory of the run, and sends to a connector that accepts everything.
    const mediaDir = mkdtempSync(join(tmpdir(), 'wgw-bench-media-'));
    cleanup.add('remove the media files', () => rmSync(mediaDir, { recursive: true, force: true }));
    const connector = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    await new Promise<void>((resolve) => connector.listen(0, '127.0.0.1', resolve));
    cleanup.add('stop the connector', () => new Promise((resolve) => connector.close(resolve)));
    t = performance.now();
    const gateway = await GatewayProcess.start({
      entry: build.main,
      nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
      env: {
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: String(options.poolSize),
        LOG_LEVEL: 'info',
        RATE_LIMIT_PER_MINUTE: '0',
        AUTH_FAILURE_LIMIT_PER_MINUTE: '0',
        METRICS_TOKEN: '',
        DATA_DIR: join(mediaDir, 'data'),
        WA_EXTERNAL_SEND_URL: `http://127.0.0.1:${(connector.address() as AddressInfo).port}/send`,
        // The webhook receiver runs on loopback.
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      },
    });
    cleanup.add('stop the gateway', () => gateway.stop('SIGTERM'));
    log(`gateway pid ${gateway.pid} at ${gateway.baseUrl}: migrated and ready in ${elapsed(t)}`);

    t = performance.now();
    const seeded = await seedMessages(database.url, { messages: options.messages, log: (line) => log(`  ${line}`) });
    log(`seeded ${seeded.messages} messages, ${seeded.chats} chats, ${seeded.sessions.length} sessions in ${elapsed(t)}`);

    const big = seeded.largestChats[0];
    const orgs = [...new Set(seeded.sessions.map((s) => s.orgId))];
    t = performance.now();
    const mint = (org: string, capabilities: Capability[]) => seedApiKey(database.url, org, capabilities, build.cli);
    const [readKey, sendKey, mediaKey, ...ingestKeys] = await Promise.all([
      mint(big.orgId, ['read']),
      mint(big.orgId, ['send']),
      mint('bench-media', ['read', 'send', 'manage', 'ingest']),
      ...orgs.map((org) => mint(org, ['ingest'])),
    ]);
    log(`minted ${3 + ingestKeys.length} API keys with the CLI in ${elapsed(t)}`);

    const sessionPath = `/api/v1/sessions/${big.sessionId}`;
    const bigChatPath = `${sessionPath}/chats/${encodeURIComponent(big.jid)}`;
    t = performance.now();
    const deepCursor = await walkToDepth(gateway.baseUrl, readKey, `${bigChatPath}/messages`, big.messages, DEEP);
    const [deepTs, deepId] = decodePosition(deepCursor, () => true);
    log(`walked ${DEEP * 100}% into ${big.jid} (${big.messages} messages) through the API in ${elapsed(t)}`);

    const chats = await chatsBySession(database.url, options.connections);
    const patchedChats = chats.get(big.sessionId)!;
    const readHeaders = { authorization: `Bearer ${readKey}` };
    let patches = 0;
    const allScenarios: { key: ScenarioKey; scenario: HttpScenario }[] = [
      { key: 'floor', scenario: { name: 'GET /health/live (floor)', path: '/health/live' } },
      {
        key: 'firstPage',
        scenario: { name: 'list messages, first page', path: `${bigChatPath}/messages?limit=${PAGE}`, headers: readHeaders },
      },
      {
        key: 'deepPage',
        scenario: {
          name: `list messages, page at ${DEEP * 100}%`,
          path: `${bigChatPath}/messages?limit=${PAGE}&cursor=${encodeURIComponent(deepCursor)}`,
          headers: readHeaders,
        },
      },
      { key: 'listChats', scenario: { name: 'list chats', path: `${sessionPath}/chats?limit=${PAGE}`, headers: readHeaders } },
      { key: 'getChat', scenario: { name: 'get one chat', path: bigChatPath, headers: readHeaders } },
      {
        key: 'patchChat',
        scenario: {
          // Round robin over the session's chats, archiving them on one pass and unarchiving on the next.
          name: 'PATCH a chat (archive/unarchive)',
          method: 'PATCH',
          path: bigChatPath,
          headers: { authorization: `Bearer ${sendKey}`, 'content-type': 'application/json' },
          setupRequest: (req) => {
            const n = patches++;
            const jid = patchedChats[n % patchedChats.length];
            const archived = Math.floor(n / patchedChats.length) % 2 === 0;
            return { ...req, path: `${sessionPath}/chats/${encodeURIComponent(jid)}`, body: JSON.stringify({ archived }) };
          },
        },
      },
    ];
    const httpScenarios = allScenarios.filter((s) => runs(s.key));

    const rss = new RssSampler(gateway);
    cleanup.add('stop sampling', () => rss.stop());
    const meter = await CpuMeter.open(gateway, database.url);
    cleanup.add('close the CPU meter', () => meter.close());
    // Rounds interleave the scenarios, so that a change in the machine's other load during the run
    // weighs on all of them alike.
    const rounds = new Map(httpScenarios.map(({ key }) => [key, { results: [] as HttpResult[], cpu: NO_CPU, rssMb: 0 }]));
    const roundSeconds = options.seconds / options.rounds;
    for (let round = 1; round <= options.rounds; round++) {
      for (const { key, scenario } of httpScenarios) {
        t = performance.now();
        // Warm-up before the first round (JIT, pool connections, prepared statements, caches), discarded.
        if (round === 1) await runHttpScenario(gateway.baseUrl, scenario, { connections: options.connections, seconds: options.warmupSeconds });
        rss.phasePeakMb();
        const [result, cpu] = await meter.measure(() =>
          runHttpScenario(gateway.baseUrl, scenario, { connections: options.connections, seconds: roundSeconds }),
        );
        const entry = rounds.get(key)!;
        entry.results.push(result);
        entry.cpu = addCpu(entry.cpu, cpu);
        entry.rssMb = Math.max(entry.rssMb, rss.phasePeakMb());
        log(`  round ${round}, ${scenario.name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms} ms, ${result.errors} errors (${elapsed(t)})`);
      }
    }
    const http = new Map<ScenarioKey, ScenarioRow>(
      [...rounds].map(([key, entry]) => [key, { result: combineRounds(entry.results), cpu: entry.cpu, rssMb: entry.rssMb }]),
    );

    let costs: PageCost[] | undefined;
    if (runs('offset')) {
      t = performance.now();
      costs = await measurePageCosts(database.url, big, {
        limit: PAGE,
        after: { ts: deepTs, id: deepId },
        runs: 200,
        budgetMs: options.quick ? 4000 : 10_000,
      });
      log(`  keyset and OFFSET page costs measured in ${elapsed(t)}`);
    }

    const ingestTargets: IngestTarget[] = seeded.sessions.map((s) => ({
      sessionId: s.id,
      key: ingestKeys[orgs.indexOf(s.orgId)],
      chats: chats.get(s.id)!.slice(0, 25),
    }));
    const ingestSettings = { concurrency: options.ingestConcurrency, seconds: options.ingestSeconds, batchSize: BATCH };
    let ingest: IngestRow | undefined;
    if (runs('ingest')) {
      t = performance.now();
      rss.phasePeakMb();
      const [result, cpu] = await meter.measure(() =>
        runIngestScenario(gateway.baseUrl, database.url, ingestTargets, ingestSettings),
      );
      ingest = { ...result, cpu, rssMb: rss.phasePeakMb() };
      log(`  ingestion: ${result.messagesPerSec.toFixed(0)} messages/s in ${result.acceptedBatches} batches (${elapsed(t)})`);
    }
    let reactions: { plain: number; withReactions: number; ratio: number } | undefined;
    if (runs('reactions')) {
      // A history sync of 100,000 messages, alone and with 20,000 reactions among them (1 per 5 messages).
      t = performance.now();
      const history = { ...ingestSettings, seconds: 600, maxBatches: Math.ceil(100_000 / BATCH), history: true };
      const plain = await runIngestScenario(gateway.baseUrl, database.url, ingestTargets, history);
      const withReactions = await runIngestScenario(gateway.baseUrl, database.url, ingestTargets, { ...history, reactionsPerBatch: BATCH / 5 });
      reactions = { plain: plain.messagesPerSec, withReactions: withReactions.messagesPerSec, ratio: withReactions.messagesPerSec / plain.messagesPerSec };
      log(
        `  history sync of ${plain.storedMessages} messages: ${plain.messagesPerSec.toFixed(0)} messages/s; with ` +
          `${withReactions.acceptedBatches * (BATCH / 5)} reactions: ${withReactions.messagesPerSec.toFixed(0)} messages/s ` +
          `(${reactions.ratio.toFixed(2)} x, ${withReactions.errors + plain.errors} errors) (${elapsed(t)})`,
      );
    }
    let media: MediaBench | undefined;
    if (runs('media')) {
      t = performance.now();
      media = await runMediaBench({ baseUrl: gateway.baseUrl, key: mediaKey, rss, dir: mediaDir, seconds: roundSeconds, log });
      log(`  media scenarios in ${elapsed(t)}`);
    }

    const manageKeys = runs('webhooks') || runs('stream') ? await Promise.all(orgs.map((org) => mint(org, ['manage', 'read']))) : [];
    let webhooks: WebhookBench | undefined;
    if (runs('webhooks')) {
      t = performance.now();
      webhooks = await runWebhookScenarios(
        gateway.baseUrl,
        database.url,
        orgs.map((orgId, i) => ({ orgId, manageKey: manageKeys[i] })),
        ingestTargets,
        { ...ingestSettings, steadySeconds: options.quick ? 5 : 10, steadyRate: 500, backlog: options.quick ? 20_000 : 50_000, log },
      );
      log(`  webhook scenarios done (${elapsed(t)})`);
    }

    let feed: HttpResult | undefined;
    if (runs('feed')) {
      // A page of 100 events of the read key's organization: its sessions' ingestion recorded them.
      const bigTargets = ingestTargets.filter((target) => seeded.sessions.find((s) => s.id === target.sessionId)?.orgId === big.orgId);
      await runIngestScenario(gateway.baseUrl, database.url, bigTargets, { concurrency: 1, seconds: 1, batchSize: 200 });
      const scenario: HttpScenario = { name: 'event feed, page of 100', path: '/api/v1/events?limit=100', headers: readHeaders };
      await runHttpScenario(gateway.baseUrl, scenario, { connections: options.connections, seconds: options.warmupSeconds });
      feed = await runHttpScenario(gateway.baseUrl, scenario, { connections: options.connections, seconds: roundSeconds });
      log(`  ${scenario.name}: ${feed.rps.toFixed(0)} req/s, p99 ${feed.p99Ms} ms, ${feed.errors} errors`);
    }

    // The scenarios' peak; the streams' own memory has its own target.
    const peakRssMb = rss.peakMb();
    let stream: (StreamBench & { rssMb: number }) | undefined;
    if (runs('stream')) {
      rss.phasePeakMb();
      const target = ingestTargets.find((candidate) => seeded.sessions.find((s) => s.id === candidate.sessionId)?.orgId === orgs[0])!;
      const fanout = await runStreamFanout(gateway.baseUrl, manageKeys[0], target, { streams: 1000, events: options.quick ? 5 : 10, log });
      stream = { ...fanout, rssMb: rss.phasePeakMb() };
    }
    rss.stop();
    await gateway.stop('SIGTERM');

    log();
    printScenarios([...http.values()], ingest, `${BATCH}-message batches x ${options.ingestConcurrency}`);
    if (costs) printPageCosts(costs);
    if (profileDir) printProfile(summarizeCpuProfiles(profileDir));

    const rps = (key: ScenarioKey) => Math.round(http.get(key)?.result.rps ?? NaN);
    const bench: Bench = {
      floorRps: rps('floor'),
      firstPageRps: rps('firstPage'),
      deepPageRps: rps('deepPage'),
      listChatsRps: rps('listChats'),
      getChatRps: rps('getChat'),
      patchChatRps: rps('patchChat'),
      firstPageP99Ms: http.get('firstPage')?.result.p99Ms ?? NaN,
      deepPageP99Ms: http.get('deepPage')?.result.p99Ms ?? NaN,
      ingestMsgsPerSec: Math.round(ingest?.messagesPerSec ?? NaN),
      ingestIncompleteBatches: ingest?.incompleteBatches ?? NaN,
      historyMsgsPerSec: Math.round(reactions?.plain ?? NaN),
      historyWithReactionsMsgsPerSec: Math.round(reactions?.withReactions ?? NaN),
      reactionsIngestRatio: reactions ? Number(reactions.ratio.toFixed(2)) : NaN,
      ingestWithWebhookMsgsPerSec: Math.round(webhooks?.ingestWithWebhook.messagesPerSec ?? NaN),
      webhookDeliveriesPerSec: Math.round(webhooks?.webhookDeliveriesPerSec ?? NaN),
      deliveryP50Ms: webhooks?.deliveryP50Ms ?? NaN,
      deliveryP99Ms: webhooks?.deliveryP99Ms ?? NaN,
      backlogDrainPerSec: Math.round(webhooks?.backlogDrainPerSec ?? NaN),
      backlogFirstDeliverySec: webhooks ? Number(webhooks.backlogFirstDeliverySec.toFixed(1)) : NaN,
      webhookDuplicates: webhooks?.duplicates ?? NaN,
      badSignatures: webhooks?.badSignatures ?? NaN,
      undelivered: webhooks?.undelivered ?? NaN,
      feedPageRps: Math.round(feed?.rps ?? NaN),
      streamFanoutP99Ms: stream ? Math.round(stream.fanoutP99Ms) : NaN,
      streamRssMb: stream ? Number(stream.rssMb.toFixed(1)) : NaN,
      keysetDeepMs: costs ? Number(costs[1].medianMs.toFixed(3)) : NaN,
      offsetDeepMs: costs ? Number(costs[2].medianMs.toFixed(3)) : NaN,
      keysetDeepExplainMs: costs?.[1].executionMs ?? NaN,
      offsetDeepExplainMs: costs?.[2].executionMs ?? NaN,
      ...media,
      rssMb: Number(peakRssMb.toFixed(1)),
      messages: seeded.messages,
      errors:
        [...http.values()].reduce((sum, r) => sum + r.result.errors, 0) +
        (ingest?.errors ?? 0) +
        (webhooks?.ingestWithWebhook.errors ?? 0) +
        (feed?.errors ?? 0) +
        (media?.mediaErrors ?? 0),
      connections: options.connections,
      secondsPerScenario: options.seconds,
      totalSeconds: Math.round((performance.now() - started) / 1000),
    };
    const targets = checkTargets(bench);
    printTargets(targets);
    printBenchLine(bench);
    if (targets.some((target) => !target.met)) process.exitCode = 1;
  } finally {
    if (!interrupted) await cleanup.run();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
