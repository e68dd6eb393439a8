/**
 * The media scenarios of `npm run bench`: serving a small image, streaming a 16 MiB file next to a
 * raw `fs.createReadStream` HTTP server (the machine's limit), 1 MiB ranges of a 64 MiB video (one
 * player seeking, then ten at once), multipart uploads of 16 MiB next to a raw disk write of the
 * same bytes, and the gateway's RSS growth while serving and receiving 64 MiB files.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, request } from 'undici';
import { RssSampler } from './process-usage';

const MIB = 1024 * 1024;

export interface MediaBench {
  mediaSmallRps: number;
  mediaSmallP99Ms: number;
  media16MBps: number;
  raw16MBps: number;
  mediaRangeP99Ms: number;
  mediaRangeRps: number;
  mediaRangeLoadedP99Ms: number;
  upload16Ms: number;
  diskWrite16Ms: number;
  serve64RssGrowthMb: number;
  upload64RssGrowthMb: number;
  mediaErrors: number;
}

interface LocalFile {
  path: string;
  size: number;
  sha256: string;
}

/** Writes `size` random bytes (with a JPEG or MP4 signature first) to `dir`, streaming. */
async function makeFile(dir: string, size: number, kind: 'jpeg' | 'mp4' | 'bin'): Promise<LocalFile> {
  const path = join(dir, `${randomUUID()}.${kind}`);
  const hash = createHash('sha256');
  const head =
    kind === 'jpeg'
      ? Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01])
      : kind === 'mp4'
        ? Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex')
        : Buffer.alloc(0);
  const chunks = (function* () {
    let written = 0;
    while (written < size) {
      const chunk = randomBytes(Math.min(MIB, size - written));
      if (written === 0) head.copy(chunk);
      written += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  })();
  await pipeline(Readable.from(chunks), createWriteStream(path));
  return { path, size, sha256: hash.digest('hex') };
}

async function readAll(body: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += (chunk as Buffer).length;
  return bytes;
}

/** MB/s of `times` whole downloads of `url`, `concurrency` at a time. */
async function throughput(url: string, headers: Record<string, string>, times: number, concurrency: number): Promise<{ mbps: number; errors: number }> {
  let next = 0;
  let bytes = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < times) {
        const res = await request(url, { headers });
        if (res.statusCode !== 200) errors += 1;
        bytes += await readAll(res.body);
      }
    }),
  );
  return { mbps: bytes / MIB / ((performance.now() - started) / 1000), errors };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * A closed loop of `connections` clients on one undici pool, each reading every body to its end,
 * for `seconds`. (autocannon's own HTTP parser tops out at a few dozen MB/s of bodies on this
 * machine, which would measure the load generator instead of the server.)
 */
async function loadLoop(
  baseUrl: string,
  path: string,
  headers: () => Record<string, string>,
  connections: number,
  seconds: number,
): Promise<{ rps: number; p99Ms: number; errors: number }> {
  const pool = new Pool(baseUrl, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        const res = await pool.request({ method: 'GET', path, headers: headers() });
        await readAll(res.body);
        if (res.statusCode < 200 || res.statusCode >= 300) errors += 1;
        latencies.push(performance.now() - started);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p99Ms: Number(latencies[Math.floor(latencies.length * 0.99)].toFixed(1)), errors };
}

export interface MediaBenchOptions {
  baseUrl: string;
  /** A key of a fresh organization with every capability. */
  key: string;
  rss: RssSampler;
  dir: string;
  seconds: number;
  log: (line: string) => void;
}

export async function runMediaBench(options: MediaBenchOptions): Promise<MediaBench> {
  const { baseUrl, key, rss, dir, log } = options;
  const auth = { authorization: `Bearer ${key}` };
  const json = async (method: 'POST' | 'GET', path: string, body?: unknown) => {
    const res = await request(`${baseUrl}${path}`, {
      method,
      headers: { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const sid = (await json('POST', '/api/v1/sessions', { name: 'media bench' })).id as string;
  const chat = '6281299999999@s.whatsapp.net';
  const messages = `/api/v1/sessions/${sid}/chats/${chat}/messages`;
  let n = 0;
  /** Announces a file through ingestion and PUTs it; returns its message's media path. */
  const store = async (file: LocalFile, type: string, mimetype: string): Promise<string> => {
    const id = `BENCHMEDIA${++n}`;
    await json('POST', `/api/v1/sessions/${sid}/events`, {
      events: [{ type: 'message.upsert', message: { id, chatId: chat, fromMe: false, timestamp: Date.now(), type, media: { mimetype, size: file.size, sha256: file.sha256 } } }],
    });
    const path = `${messages}/${id}/media`;
    const res = await request(`${baseUrl}${path}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': mimetype, 'content-length': String(file.size) },
      body: createReadStream(file.path),
    });
    await res.body.dump();
    if (res.statusCode !== 204) throw new Error(`PUT ${path} answered ${res.statusCode}`);
    return path;
  };
  /** Sends `file` as a multipart document; resolves when the 202 is in. */
  const upload = async (file: LocalFile): Promise<void> => {
    const boundary = `bench${randomUUID()}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\ndocument\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const body = Readable.from(
      (async function* () {
        yield head;
        yield* createReadStream(file.path);
        yield tail;
      })(),
    );
    const res = await request(`${baseUrl}${messages}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + file.size + tail.length) },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`multipart upload answered ${res.statusCode}: ${text}`);
  };

  const small = await makeFile(dir, 100 * 1024, 'jpeg');
  const medium = await makeFile(dir, 16 * MIB, 'bin');
  const video = await makeFile(dir, 64 * MIB, 'mp4');
  const big = await makeFile(dir, 64 * MIB, 'bin');
  const smallPath = await store(small, 'image', 'image/jpeg');
  const mediumPath = await store(medium, 'document', 'application/octet-stream');
  const videoPath = await store(video, 'video', 'video/mp4');
  log('  media: files stored');
  let errors = 0;

  // Memory first, from a quiet baseline: the peak of a short idle phase is the resident size now.
  rss.phasePeakMb();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const serveBase = rss.phasePeakMb();
  await throughput(`${baseUrl}${videoPath}`, auth, 8, 8);
  const servePeak = rss.phasePeakMb();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const uploadBase = rss.phasePeakMb();
  await store(big, 'document', 'application/octet-stream');
  await upload(video);
  const uploadPeak = rss.phasePeakMb();
  log(`  media: RSS ${serveBase.toFixed(0)} → ${servePeak.toFixed(0)} MiB serving 8 × 64 MiB, ${uploadBase.toFixed(0)} → ${uploadPeak.toFixed(0)} MiB receiving 2 × 64 MiB`);

  await loadLoop(baseUrl, smallPath, () => auth, 50, 2);
  const smallResult = await loadLoop(baseUrl, smallPath, () => auth, 50, options.seconds);
  errors += smallResult.errors;
  log(`  media: 100 KiB image ${smallResult.rps.toFixed(0)} req/s, p99 ${smallResult.p99Ms} ms`);

  const raw: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': medium.size });
    createReadStream(medium.path).pipe(res);
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`;
  await throughput(rawUrl, {}, 4, 2);
  const rawResult = await throughput(rawUrl, {}, 24, 4);
  raw.closeAllConnections();
  await new Promise<void>((resolve) => raw.close(() => resolve()));
  await throughput(`${baseUrl}${mediumPath}`, auth, 4, 2);
  const gatewayResult = await throughput(`${baseUrl}${mediumPath}`, auth, 24, 4);
  errors += gatewayResult.errors;
  log(`  media: 16 MiB ${gatewayResult.mbps.toFixed(0)} MB/s through the gateway, ${rawResult.mbps.toFixed(0)} MB/s raw`);

  const range = () => {
    const start = Math.floor(Math.random() * 63) * MIB;
    return { ...auth, range: `bytes=${start}-${start + MIB - 1}` };
  };
  // A player seeks one range at a time: its latency is the target. Ten players at once measure
  // the rate, where each waits behind the others' bytes on two cores (p99 reported beside it).
  await loadLoop(baseUrl, videoPath, range, 10, 2);
  const seekResult = await loadLoop(baseUrl, videoPath, range, 1, options.seconds);
  const rangeResult = await loadLoop(baseUrl, videoPath, range, 10, options.seconds);
  errors += seekResult.errors + rangeResult.errors;
  log(`  media: 1 MiB ranges, one player p99 ${seekResult.p99Ms} ms; ten players ${rangeResult.rps.toFixed(0)} req/s, p99 ${rangeResult.p99Ms} ms`);

  const uploads: number[] = [];
  const writes: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    await upload(medium);
    uploads.push(performance.now() - t);
    t = performance.now();
    const copy = join(dir, `copy-${i}`);
    await pipeline(createReadStream(medium.path), createWriteStream(copy));
    const handle = await open(copy, 'r');
    await handle.sync();
    await handle.close();
    writes.push(performance.now() - t);
    await rm(copy);
  }
  log(`  media: 16 MiB multipart upload ${median(uploads).toFixed(0)} ms, raw disk write ${median(writes).toFixed(0)} ms`);

  return {
    mediaSmallRps: Math.round(smallResult.rps),
    mediaSmallP99Ms: smallResult.p99Ms,
    media16MBps: Number(gatewayResult.mbps.toFixed(1)),
    raw16MBps: Number(rawResult.mbps.toFixed(1)),
    mediaRangeP99Ms: seekResult.p99Ms,
    mediaRangeRps: Math.round(rangeResult.rps),
    mediaRangeLoadedP99Ms: rangeResult.p99Ms,
    upload16Ms: Math.round(median(uploads)),
    diskWrite16Ms: Math.round(median(writes)),
    serve64RssGrowthMb: Number((servePeak - serveBase).toFixed(1)),
    upload64RssGrowthMb: Number((uploadPeak - uploadBase).toFixed(1)),
    mediaErrors: errors,
  };
}
