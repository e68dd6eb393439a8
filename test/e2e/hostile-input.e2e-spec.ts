import fc from 'fast-check';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { encodeCursor } from '../../src/common/pagination/cursor';
import { MessageSendService } from '../../src/messages/message-send.service';
import { ConnectorServer } from '../support/connector-server';
import { answerEventStreamsAtTheirHead } from '../support/event-stream';
import {
  documentedBody,
  fetchOpenApi,
  fillPath,
  OpenApiDocument,
  Operation,
  operationsOf,
  Parameter,
  resolveSchema,
  Schema,
} from '../support/openapi-operations';
import { seedOrg, SeededOrg } from '../support/org-fixture';
import { snapshotOrg } from '../support/org-snapshot';
import { startTestApp, TestApp, uniqueOrg } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

/**
 * Every operation of the OpenAPI document, hit with generated requests: valid ones, valid ones
 * with a mutation, and junk (wrong types, huge and odd strings, injection strings, bad cursors,
 * odd ids, odd headers). The gateway must never answer 5xx, must answer every error in the
 * envelope, and a rejected request must change nothing that is stored.
 */

const RUNS_PER_OPERATION = 25;
/** The hostile org's own recent text: what edits, reactions and revokes of the fixed-path checks name. */
const EDITABLE_ID = 'HEDITABLE';
/** The exhaustive searches walk every operation and field of the document: they take minutes, not seconds. */
const SEARCH_TIMEOUT_MS = 600_000;
const RANDOM_ROUTE_RUNS = 60;

/** A new seed every run, printed once; `HOSTILE_SEED=<n>` replays a run. */
const SEED = process.env.HOSTILE_SEED ? Number(process.env.HOSTILE_SEED) : (Math.random() * 0x7fffffff) | 0;
if (!Number.isSafeInteger(SEED)) throw new Error(`HOSTILE_SEED must be an integer, not ${process.env.HOSTILE_SEED}`);
fc.configureGlobal({ seed: SEED });

// The event stream never ends by itself: its head is the answer checked.
answerEventStreamsAtTheirHead();

// ---------------------------------------------------------------- hostile values

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE chats; --",
  '" OR ""="',
  '1; SELECT pg_sleep(5)',
  "$1'::text",
  '{"$ne": null}',
  '{"__proto__": {"admin": true}}',
  '__proto__',
  'constructor',
  'prototype',
  '../../../../etc/passwd',
  '..',
  '.',
  '%',
  '%00',
  '%2e%2e%2f',
  '\u0000',
  '\u202e\u0041\u0042',
  '\ud83d\ude00'.repeat(64),
  '\ud800',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '<script>alert(1)</script>',
  '${7*7}',
  '\r\nX-Injected: 1',
  ' ',
  '',
];

const ODD_IDS = [
  '01HF7Z3K8Q2V5N9T4W6X0Y1B2C',
  '01hf7z3k8q2v5n9t4w6x0y1b2c',
  '01HF7Z3K8Q2V5N9T4W6X0Y1B2',
  '01HF7Z3K8Q2V5N9T4W6X0Y1B2CC',
  '00000000000000000000000000',
  'ZZZZZZZZZZZZZZZZZZZZZZZZZZ',
  '6281234567890@s.whatsapp.net',
  '6281234567890@S.WHATSAPP.NET',
  '6281234567890@g.us',
  '6281234567890-1600000000@g.us',
  '6281234567890@lid',
  '@s.whatsapp.net',
  '6281234567890@',
  '6281234567890',
  '+6281234567890@s.whatsapp.net',
  ' 6281234567890@s.whatsapp.net',
  '6281234567890@s.whatsapp.net.evil.com',
  '6281234567890@@g.us',
  `${'9'.repeat(300)}@s.whatsapp.net`,
  '3EB0C1A2B3C4D5E6',
  'wgw_',
  `wgw_${'A'.repeat(38)}`,
];

/**
 * Odd strings that fit in a URL or a header: long, but well under the 16 KiB that Node allows for
 * a request head (what happens past that is a test of its own, below).
 */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INJECTIONS, ...ODD_IDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map((s) => s.repeat(20)) },
  { weight: 1, arbitrary: fc.nat({ max: 1000 }).map((n) => 'x'.repeat(n)) },
);

/** Strings for bodies, where size is only bounded by the body limit. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => s.repeat(500)) },
  { weight: 1, arbitrary: fc.nat({ max: 100_000 }).map((n) => 'x'.repeat(n)) },
);

/** Any JSON at all, with a bias towards the values that break careless code. */
const junkJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hostileText },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      -2,
      1.5,
      -0.000001,
      2 ** 53,
      2 ** 63,
      -(2 ** 63),
      1e308,
      -1e308,
      [],
      {},
      [null],
      { __proto__: null },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      { constructor: { prototype: { polluted: true } } },
    ),
  },
  { weight: 1, arbitrary: fc.array(fc.constant('x'), { maxLength: 2000 }) },
);

/** Query values: numbers out of range or not numbers, cursors that were never issued, junk. */
const hostileQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('-1', '0', '101', '1000000', '99999999999999999999999', '1e2', '1.5', ' 5', '5 ', '0x10', '+5', '050', '٣'),
  fc.constantFrom('eyJ9.abc', 'W10.', 'WzEsImEiXQ.xxxxxxxxxxxx', 'a'.repeat(2000), '.', 'W10.W10', 'true', 'false', 'TRUE', '1', 'yes'),
  hostileString,
);

/** Percent-encodes anything, a lone surrogate included (as the invalid UTF-8 it would be). */
const encodeHostile = (s: string): string =>
  Array.from(s, (ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');

/** Header values must be visible ASCII or the client refuses to send them. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '').slice(0, 2000);

/**
 * Text that breaks careless handling (the database's, the validator's, the JSON encoder's): each
 * goes into every string field of every body, every run. A field must refuse it with 422 or
 * store it exactly.
 */
const NASTY_TEXT: [string, string][] = [
  ['a NUL', 'a\u0000b'],
  ['a lone high surrogate', 'x\ud800y'],
  ['a lone low surrogate', 'x\udc00y'],
  ['100 emoji with a variation selector (200 code points)', '❤️'.repeat(100)],
  ['50 emoji with a variation selector (100 code points)', '❤️'.repeat(50)],
  ['100 astral characters', '𝕏'.repeat(100)],
  ['101 astral characters', '𝕏'.repeat(101)],
  ['combining marks', 'Z\u0351\u036b\u0343a\u0308\u0327l\u0300g\u0301o\u0489'],
  ['an RTL override', '\u202Etxt.exe'],
  ['zero-width-joiner sequences', '👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈'],
  ['5,000 characters', 'x'.repeat(5000)],
  ['an empty string', ''],
  ['whitespace only', ' \t\n '],
];

/**
 * Values a field takes to remove something rather than to store it: accepted, they do not read
 * back (`""` removes the caller's reaction).
 */
const REMOVING_VALUES: Record<string, string[]> = {
  'PUT /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}/reaction emoji': [''],
};

/**
 * Bodies besides the documented one whose string fields get the nasty text too: the fields that
 * only some variants of a body have (a place, contact cards, a reply). `quoted` is a stored message
 * of the chat.
 */
function variantBodies(op: Operation, quoted: string): unknown[] {
  if (op.key !== 'POST /api/v1/sessions/{sid}/chats/{cid}/messages') return [];
  return [
    { type: 'text', text: 'a reply', replyTo: quoted },
    { type: 'location', location: { latitude: -6.2, longitude: 106.8, name: 'Monas', address: 'Gambir, Jakarta' } },
    { type: 'contact', contacts: [{ name: 'Budi', phoneNumber: '6281234567890' }] },
  ];
}

type JsonPath = (string | number)[];

/** The path of every string in a JSON value. */
function stringFields(value: unknown, at: JsonPath = []): JsonPath[] {
  if (typeof value === 'string') return [at];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, member]) => stringFields(member, [...at, Array.isArray(value) ? Number(k) : k]));
  }
  return [];
}

function withValueAt(base: unknown, path: JsonPath, value: unknown): unknown {
  const copy = structuredClone(base);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  parent[path[path.length - 1]] = value;
  return copy;
}

// ---------------------------------------------------------------- requests

/** A path value: one of the fixture's real ids (resolved at request time), or a literal. */
type PathValue = { ref: Ref } | { literal: string };
type Ref =
  | 'h.sid'
  | 'v.sid'
  | 'h.chat'
  | 'h.group'
  | 'v.chat'
  | 'h.message'
  | 'v.message'
  | 'h.key'
  | 'v.key'
  | 'h.webhook'
  | 'v.webhook'
  | 'h.delivery'
  | 'v.delivery';

const REFS_BY_PARAM: Record<string, Ref[]> = {
  sid: ['h.sid', 'h.sid', 'h.sid', 'v.sid'],
  cid: ['h.chat', 'h.group', 'h.chat', 'v.chat'],
  mid: ['h.message', 'h.message', 'v.message'],
  // An API key's or a webhook's, as the route may be either's.
  id: ['h.key', 'v.key', 'h.webhook', 'h.webhook', 'v.webhook'],
  // A person's (contact routes) or a group's (group routes).
  jid: ['h.group', 'h.chat', 'h.group', 'v.chat'],
  did: ['h.delivery', 'h.delivery', 'v.delivery'],
};
const ALL_REFS = [...new Set(Object.values(REFS_BY_PARAM).flat())];

type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; text: string; contentType: string };

interface GeneratedRequest {
  method: string;
  path: Record<string, PathValue>;
  /** Sent as the path segments are, without encoding (already-encoded oddities). */
  rawPathValue?: string;
  query: [string, string][];
  /** The Authorization header; null sends the hostile org's valid key. */
  auth: string | null;
  headers: Record<string, string>;
  body: Body;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  '',
];

const authArb: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer  x', 'Token abc', `Bearer wgw_${'a'.repeat(38)}`),
      fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => `Bearer ${s}`),
      fc.constantFrom('eyJhbGciOiJub25lIn0.eyJvcmdfaWQiOiJ4In0.', 'eyJhbGciOiJIUzI1NiJ9.e30.abc', 'a.b.c').map((s) => `Bearer ${s}`),
      fc.nat({ max: 1900 }).map((n) => `Bearer ${'k'.repeat(n)}`),
    ),
  },
);

const extraHeadersArb: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'idempotency-key': hostileString,
    'x-request-id': hostileString,
    accept: fc.constantFrom('application/json', 'image/png', 'text/html', '*/*', 'application/xml', ''),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1'),
  },
  { requiredKeys: [] },
);

/** Values that satisfy the schema most of the time, and junk now and then at any depth. */
function fromSchema(doc: OpenApiDocument, schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: validFromSchema(doc, schema, depth) }, { weight: 1, arbitrary: junkJson });
}

function validFromSchema(doc: OpenApiDocument, raw: Schema, depth: number): fc.Arbitrary<unknown> {
  const s = resolveSchema(doc, raw);
  const variants = s.oneOf ?? s.anyOf;
  if (variants) return fc.oneof(...variants.map((v) => fromSchema(doc, v, depth + 1)));
  if (s.enum) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return fc.oneof(
        fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 300) }),
        ...(typeof s.example === 'string' ? [fc.constant(s.example)] : []),
      );
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 2_000_000_000_000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      if (depth > 4) return fc.constant([]);
      return fc.array(fromSchema(doc, s.items ?? {}, depth + 1), {
        minLength: Math.min(s.minItems ?? 0, 5),
        maxLength: Math.min(s.maxItems ?? 5, 5),
      });
    default: {
      if (depth > 4 || !s.properties) return fc.dictionary(fc.string({ maxLength: 10 }), junkJson, { maxKeys: 3 });
      const props = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, fromSchema(doc, v, depth + 1)]));
      return fc.record(props, { requiredKeys: s.required ?? [] });
    }
  }
}

/** Where the organizations' webhooks point. */
const receiver = new WebhookReceiver();

/** The group the connector creates, whatever it is asked. */
const CREATED_GROUP = '120363000000000999@g.us';

/** A connector that answers the request/answer actions of API.md §10 well (and every send with `{"ok":true}`). */
function connectorAnswer(body: Record<string, unknown>): unknown {
  const action = (body.action ?? {}) as Record<string, unknown>;
  switch (action.type) {
    case 'lookup':
      return { data: (action.phoneNumbers as string[]).map((phoneNumber) => ({ phoneNumber, exists: false, jid: null })) };
    case 'picture':
      return { url: null };
    case 'group.get':
      return { id: body.chatId, subject: 'fuzz group', participants: [] };
    case 'group.create':
      return { id: CREATED_GROUP, subject: action.subject, participants: [] };
    case 'group.participants': {
      const numbers = Object.entries(action).find(([key]) => key !== 'type')?.[1] as string[];
      return { data: numbers.map((phoneNumber) => ({ phoneNumber, result: 'failed', reason: 'fuzz' })) };
    }
    case 'group.invite-link':
      return { url: 'https://chat.whatsapp.com/Fuzz123' };
    default:
      return { ok: true };
  }
}

/** Known-good bodies, which mutation turns into almost-good ones (the most searching kind). */
function exampleBody(op: Operation, h: SeededOrg): unknown {
  if (op.path.endsWith('/events')) return { events: h.batch.events.slice(0, 4) };
  if (op.path.endsWith('/messages')) return { type: 'text', text: 'hello' };
  if (op.path.endsWith('/pairing-code')) return { phoneNumber: '6281234567890' };
  if (op.path.endsWith('/numbers/lookup')) return { phoneNumbers: ['6281234567890'] };
  if (op.path.endsWith('/groups')) return { subject: 'fuzz', participants: ['6281234567890'] };
  if (op.path.endsWith('/participants')) return { add: ['6281234567890'] };
  if (op.path.endsWith('/api-keys')) return { name: 'fuzz', capabilities: ['read'] };
  if (op.path.endsWith('/webhooks')) return { url: receiver.url, description: 'fuzz', events: ['*'], sessionIds: [h.sid], includeHistory: false };
  if (op.path.endsWith('/webhooks/{id}')) {
    return { url: receiver.url, description: 'fuzz', events: ['chat.created'], sessionIds: [], includeHistory: true, enabled: true };
  }
  if (op.path.endsWith('/sessions')) return { name: 'fuzz' };
  if (op.path.endsWith('/reaction')) return { emoji: '👍' };
  if (op.path.endsWith('/presence')) return { state: 'composing' };
  if (op.method === 'patch' && op.path.endsWith('/{mid}')) return { text: 'edited' };
  if (op.method === 'patch') return { archived: true, pinned: false, mutedUntil: 1_800_000_000_000, unmute: false };
  return {};
}

interface Mutation {
  at: number;
  action: 'replace' | 'delete' | 'add' | 'wrap';
  key: string;
  junk: unknown;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom('replace', 'delete', 'add', 'wrap'),
  key: fc.oneof(hostileString, fc.constantFrom('id', 'type', 'events', 'name', 'archived', '__proto__', 'constructor')),
  junk: junkJson,
});

/** Every container in a JSON value with the key under which each of its members lives. */
function slots(value: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []) {
  if (Array.isArray(value)) {
    value.forEach((member, i) => {
      out.push({ parent: value, key: i });
      slots(member, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, member] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key: k });
      slots(member, out);
    }
  }
  return out;
}

function mutate(base: unknown, mutations: Mutation[]): unknown {
  const value = structuredClone(base);
  for (const m of mutations) {
    // A copy per insertion: one junk value inserted twice (fast-check may hand out the same
    // instance) could otherwise end up inside itself, e.g. as its own `__proto__` member.
    const junk = structuredClone(m.junk);
    const all = slots(value);
    if (all.length === 0) return junk;
    const { parent, key } = all[m.at % all.length];
    const target = parent as Record<string | number, unknown>;
    if (m.action === 'replace') target[key] = junk;
    else if (m.action === 'wrap') target[key] = [target[key]];
    else if (m.action === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete target[key];
    } else if (Array.isArray(parent)) parent.push(junk);
    else Object.defineProperty(parent, m.key, { value: junk, enumerable: true, configurable: true, writable: true });
  }
  return value;
}

function bodyArb(doc: OpenApiDocument, op: Operation, h: SeededOrg): fc.Arbitrary<Body> {
  const raw = fc.record({
    kind: fc.constant('raw' as const),
    text: fc.oneof(
      fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{"a":1}garbage', '\u0000', '{"a":"\\ud800"}', '\ufeff{}', '{"a":1,"a":2}', '""'),
      fc.string({ maxLength: 200 }),
      fc.nat({ max: 30_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      fc.nat({ max: 30_000 }).map((n) => `{"name":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
    ),
    contentType: fc.constantFrom(...CONTENT_TYPES),
  });
  const none = fc.constant({ kind: 'none' as const });
  if (!op.body) {
    return fc.oneof({ weight: 4, arbitrary: none }, { weight: 1, arbitrary: junkJson.map((value) => ({ kind: 'json' as const, value })) }, { weight: 1, arbitrary: raw });
  }
  const schemaBody = fromSchema(doc, op.body);
  const mutations = fc.oneof(fc.constant<Mutation[]>([]), fc.array(mutationArb, { minLength: 1, maxLength: 3 }));
  const mutated = mutations.map((ms) => mutate(exampleBody(op, h), ms));
  return fc.oneof(
    { weight: 4, arbitrary: mutated.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 3, arbitrary: schemaBody.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: junkJson.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 1, arbitrary: raw },
    { weight: 1, arbitrary: none },
  );
}

function pathValueArb(name: string): fc.Arbitrary<PathValue> {
  const refs = REFS_BY_PARAM[name] ?? ALL_REFS;
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...refs).map((ref) => ({ ref })) },
    { weight: 1, arbitrary: fc.constantFrom(...ALL_REFS).map((ref) => ({ ref })) },
    { weight: 3, arbitrary: hostileString.map((literal) => ({ literal })) },
  );
}

/**
 * Cursors: real ones (from any list, so also one list's cursor on another), real ones cut short
 * or with a character changed, and forged ones that pass the checksum but carry junk values.
 */
function cursorArb(real: string[]): fc.Arbitrary<string> {
  const cursor = fc.constantFrom(...real);
  const cursorValue = fc.oneof(
    fc.integer(),
    fc.constantFrom(-1, 0, 2 ** 53 - 1, 8.64e15 + 1, 1e20, -1e20, 0.5),
    hostileString,
  );
  return fc.oneof(
    cursor,
    fc.tuple(cursor, fc.nat()).map(([c, n]) => c.slice(0, n % c.length)),
    fc.tuple(cursor, fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([c, n, ch]) => {
      const i = n % c.length;
      return c.slice(0, i) + ch + c.slice(i + 1);
    }),
    fc.tuple(cursor, cursor).map(([a, b]) => `${a.split('.')[0]}.${b.split('.')[1]}`),
    fc.array(cursorValue, { maxLength: 4 }).map((values) => encodeCursor(values)),
  );
}

/** A valid long-poll `wait` would hold its request that many seconds: generate only 0 (bad waits still come as junk). */
const validQuerySchema = (p: Parameter): Schema => (p.name === 'wait' ? { ...p.schema, maximum: 0 } : (p.schema ?? {}));

function queryArb(doc: OpenApiDocument, op: Operation, cursors: string[]): fc.Arbitrary<[string, string][]> {
  const known = op.parameters.filter((p) => p.in === 'query');
  const perParam = known.map((p) =>
    fc.option(
      fc.oneof(
        { weight: 3, arbitrary: validFromSchema(doc, validQuerySchema(p), 0).map((v) => [[p.name, String(v)]] as [string, string][]) },
        {
          weight: 3,
          arbitrary: (p.name === 'cursor' ? cursorArb(cursors) : hostileQueryValue).map((v) => [[p.name, v]] as [string, string][]),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(hostileQueryValue, hostileQueryValue).map(([a, b]) => [[p.name, a], [p.name, b]] as [string, string][]),
        },
        { weight: 1, arbitrary: fc.constant([[`${p.name}[$gt]`, '0']] as [string, string][]) },
      ),
      { freq: 2 },
    ),
  );
  const extra = fc.oneof(
    { weight: 5, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.tuple(hostileString, hostileQueryValue) },
  );
  return fc.tuple(fc.tuple(...perParam), extra).map(([params, unknown]) => [
    ...params.flatMap((p) => p ?? []),
    ...(unknown ? [unknown] : []),
  ]);
}

function requestArb(doc: OpenApiDocument, op: Operation, h: SeededOrg, cursors: string[]): fc.Arbitrary<GeneratedRequest> {
  const pathParams = op.path.match(/\{([^}]+)\}/g)?.map((p) => p.slice(1, -1)) ?? [];
  return fc.record({
    method: fc.constant(op.method),
    path: fc.record(Object.fromEntries(pathParams.map((p) => [p, pathValueArb(p)]))),
    rawPathValue: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%2F', '..%2F..%2F', '%00', 'a%20b', '%F0%9F%98%80') },
    ),
    query: queryArb(doc, op, cursors),
    auth: op.public ? fc.constant(null) : authArb,
    headers: extraHeadersArb,
    body: bodyArb(doc, op, h),
  });
}

// ---------------------------------------------------------------- the suite

describe('hostile input, generated from the OpenAPI document', () => {
  let t: TestApp;
  let dataSource: DataSource;
  let doc: OpenApiDocument;
  let operations: Operation[];
  let h: SeededOrg;
  let v: SeededOrg;
  let hOrg: string;
  let checked = 0;
  let cursors: string[];
  // Sends are accepted and reach a connector, so that sent text is stored and can be read back.
  const connector = new ConnectorServer();

  beforeAll(async () => {
    process.stdout.write(`hostile input: fast-check seed ${SEED} (replay with HOSTILE_SEED=${SEED})\n`);
    await receiver.start();
    t = await startTestApp({ WA_EXTERNAL_SEND_URL: await connector.start(), WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '2000' });
    connector.answer = connectorAnswer;
    dataSource = t.app.get(DataSource);
    doc = await fetchOpenApi(t.http);
    operations = operationsOf(doc);
    hOrg = uniqueOrg('hostile');
    h = await seedHostile();
    v = await seedOrg(t, uniqueOrg('victim'), 'v', receiver.url);
    cursors = await realCursors();
  });
  afterAll(async () => {
    process.stdout.write(`hostile input: ${checked} generated requests checked\n`);
    await t?.close();
    await connector.stop();
    await receiver.stop();
  });

  function resolveRef(ref: Ref): string {
    const [org, what] = ref.split('.') as ['h' | 'v', string];
    const o = org === 'h' ? h : v;
    switch (what) {
      case 'sid':
        return o.sid;
      case 'chat':
        return o.jids[0];
      case 'group':
        return o.jids[1];
      case 'message':
        return o.messageIds[o.jids[0]][1];
      case 'webhook':
        return o.webhookId;
      case 'delivery':
        return o.deliveryId;
      default:
        return o.spareKeyId;
    }
  }

  /**
   * The hostile org, with what the actions of conversations need: its number known (reactions are
   * the number's), and a text it sent moments ago (edits are allowed for 15 minutes). Both are in
   * its batch, so that a replay brings them back.
   */
  async function seedHostile(): Promise<SeededOrg> {
    const seeded = await seedOrg(t, hOrg, 'h', receiver.url);
    const extra = [
      { type: 'session.status', status: 'connected', phoneNumber: '6281200000077' },
      {
        type: 'message.upsert',
        message: { id: EDITABLE_ID, chatId: seeded.jids[0], fromMe: true, senderId: null, timestamp: Date.now(), type: 'text', text: 'editable', status: 'sent' },
      },
    ];
    seeded.batch.events.push(...extra);
    const res = await request(t.http).post(`/api/v1/sessions/${seeded.sid}/events`).set('Authorization', `Bearer ${seeded.key}`).send({ events: extra });
    expect(res.status).toBe(200);
    return seeded;
  }

  /** A real `nextCursor` from every list route that has one. */
  async function realCursors(): Promise<string[]> {
    const found: string[] = [];
    for (const op of operations.filter((o) => o.method === 'get' && o.parameters.some((p) => p.name === 'cursor'))) {
      const path = fillPath(op.path, fixtureIds());
      const res = await request(t.http).get(`${path}?limit=1`).set('Authorization', `Bearer ${h.key}`);
      if (typeof res.body?.nextCursor === 'string') found.push(res.body.nextCursor);
    }
    expect(found.length).toBeGreaterThanOrEqual(3);
    return found;
  }

  /** The fixture's id for each path parameter name. */
  const fixtureIds = (): Record<string, string> => ({ sid: h.sid, cid: h.jids[0], mid: EDITABLE_ID, id: h.webhookId, did: h.deliveryId, jid: h.jids[1] });

  /**
   * Accepted requests may delete the hostile org's fixture, or fill its 20 webhooks; bring it back
   * before the next run.
   */
  async function restoreFixture(): Promise<void> {
    // Deliveries before their webhooks, in the order the dispatcher locks them (else a deadlock).
    await dataSource.query('DELETE FROM webhook_deliveries WHERE org_id = $1 AND webhook_id <> $2', [hOrg, h.webhookId]);
    await dataSource.query('DELETE FROM webhooks WHERE org_id = $1 AND id <> $2', [hOrg, h.webhookId]);
    const [row] = await dataSource.query<{ sessions: number; chats: number; messages: number; keys: number; webhooks: number }[]>(
      `SELECT (SELECT count(*)::int FROM sessions WHERE id = $1 AND deleted_at IS NULL) AS sessions,
              (SELECT count(*)::int FROM chats WHERE session_id = $1 AND NOT purging) AS chats,
              (SELECT count(*)::int FROM messages WHERE session_id = $1) AS messages,
              (SELECT count(*)::int FROM api_keys WHERE org_id = $2 AND revoked_at IS NULL) AS keys,
              (SELECT count(*)::int FROM webhooks WHERE org_id = $2) AS webhooks`,
      [h.sid, hOrg],
    );
    if (row.sessions === 0 || row.keys < 2 || row.webhooks === 0) {
      h = await seedHostile();
    } else if (row.chats < 2 || row.messages < h.batch.events.filter((e) => (e as { type: string }).type === 'message.upsert').length) {
      const res = await request(t.http).post(`/api/v1/sessions/${h.sid}/events`).set('Authorization', `Bearer ${h.key}`).send(h.batch);
      expect(res.status).toBe(200);
    }
  }

  function send(gen: GeneratedRequest, op: Operation): request.Test {
    const values = Object.fromEntries(
      Object.entries(gen.path).map(([name, value]) => [name, 'ref' in value ? resolveRef(value.ref) : value.literal]),
    );
    let path = fillPath(op.path, values, encodeHostile);
    if (gen.rawPathValue !== undefined) {
      const names = Object.keys(values);
      if (names.length > 0) path = fillPath(op.path, { ...values, [names[0]]: gen.rawPathValue }, (value) => value).replace(/\{.*?\}/g, 'x');
    }
    const query = gen.query.map(([k, val]) => `${encodeHostile(k)}=${encodeHostile(val)}`).join('&');
    const url = query ? `${path}?${query}` : path;
    const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
    let req = agent[gen.method](url);
    for (const [name, value] of Object.entries(gen.headers)) req = req.set(name, headerSafe(value));
    const auth = gen.auth === null ? `Bearer ${h.key}` : headerSafe(gen.auth);
    if (auth) req = req.set('Authorization', auth);
    if (gen.body.kind === 'json') req = req.set('Content-Type', 'application/json').send(JSON.stringify(gen.body.value) ?? 'null');
    else if (gen.body.kind === 'raw') {
      if (gen.body.contentType) req = req.set('Content-Type', gen.body.contentType);
      req = req.send(gen.body.text);
    }
    return req;
  }

  /** What is wrong with an answer, or null. */
  function answerProblem(res: request.Response): string | null {
    if (res.status >= 500) return `answered ${res.status}`;
    if (res.status < 400) return null;
    if (!/^application\/json/.test(res.headers['content-type'] ?? '')) return `error with content-type ${res.headers['content-type']}`;
    const body = res.body as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (!body || Object.keys(body).join() !== 'error') return 'error body is not the envelope';
    const { code, message, details } = body.error ?? {};
    if (typeof code !== 'string' || typeof message !== 'string' || typeof details !== 'object' || details === null || Array.isArray(details)) {
      return 'malformed envelope';
    }
    if (res.status === 401 && res.headers['www-authenticate'] !== 'Bearer') return '401 without WWW-Authenticate';
    return null;
  }

  async function checkOne(send: () => PromiseLike<request.Response>, label: string): Promise<void> {
    // An accepted send records its outcome after its answer: let it land before the next snapshot.
    await t.app.get(MessageSendService).drain(5_000);
    await restoreFixture();
    const beforeH = await snapshotOrg(dataSource, hOrg);
    const beforeV = await snapshotOrg(dataSource, v.orgId);
    const res = await send();
    checked += 1;
    const problem = answerProblem(res);
    if (problem) throw new Error(`${label}: ${problem}: ${res.status} ${res.text.slice(0, 300)}`);
    const [afterH, afterV] = await Promise.all([snapshotOrg(dataSource, hOrg), snapshotOrg(dataSource, v.orgId)]);
    if (res.status >= 400) expect({ label, status: res.status, state: afterH }).toEqual({ label, status: res.status, state: beforeH });
    expect({ label, victim: afterV }).toEqual({ label, victim: beforeV });
  }

  it('covers a document with operations', () => {
    expect(operations.length).toBeGreaterThan(5);
  });

  it('never answers 5xx, always answers errors in the envelope, and rejected requests change nothing', async () => {
    // Each operation is searched on its own, so that one finding does not hide the others.
    const failures: string[] = [];
    for (const op of operations) {
      try {
        await fc.assert(
          fc.asyncProperty(requestArb(doc, op, h, cursors), (gen) => checkOne(() => send(gen, op), `${op.key} ${JSON.stringify(gen).slice(0, 600)}`)),
          { numRuns: RUNS_PER_OPERATION, endOnFailure: true },
        );
      } catch (error) {
        // The counterexample is in the cause's message, shorter than fast-check's full report.
        const seed = /\{ seed: [^}]*\}/.exec(String(error))?.[0] ?? '';
        failures.push(`${op.key} ${seed} ${String((error as { cause?: unknown }).cause ?? error).slice(0, 2000)}`);
      }
    }
    expect(failures).toEqual([]);
  }, SEARCH_TIMEOUT_MS);

  it('rejects prototype keys and deeply nested values in every body with 422, polluting nothing', async () => {
    // JSON text, spliced into a known-good body: too deep for JSON.stringify to build.
    const nasty = [
      '{"constructor":1}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"__proto__":{"polluted":true}}',
      `${'['.repeat(5000)}1${']'.repeat(5000)}`,
      `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
    ];
    const failures: string[] = [];
    for (const op of operations.filter((o) => o.body)) {
      const example = exampleBody(op, h) as Record<string, unknown>;
      const json = JSON.stringify(example);
      // Every object of the body (nested ones too, like each event of a batch), given a reserved key.
      const objectStarts = [...json.matchAll(/\{"/g)].map((m) => m.index + 1);
      const bodies = [
        ...Object.keys(example).flatMap((field) =>
          nasty.map((value) => JSON.stringify({ ...example, [field]: '<nasty>' }).replace('"<nasty>"', value)),
        ),
        ...objectStarts.flatMap((at) =>
          ['"__proto__":{"polluted":true},', '"constructor":{"prototype":{"polluted":true}},'].map(
            (member) => `${json.slice(0, at)}${member}${json.slice(at)}`,
          ),
        ),
      ];
      for (const body of bodies) {
        const path = fillPath(op.path, fixtureIds());
        const label = `${op.key} ${body.slice(0, 160)}`;
        await checkOne(async () => {
          const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
          const res = await agent[op.method](path).set('Authorization', `Bearer ${h.key}`).set('Content-Type', 'application/json').send(body);
          if (res.status !== 422 && res.status < 500) failures.push(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
          return res;
        }, label).catch((error: unknown) => failures.push(String(error).slice(0, 600)));
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(failures).toEqual([]);
  }, SEARCH_TIMEOUT_MS);

  /**
   * Every string the hostile org's lists serve, through the API: sessions, keys, the chats of its
   * session and every chat's messages, all pages.
   */
  async function readBack(): Promise<Set<string>> {
    const strings = new Set<string>();
    const collect = (value: unknown): void => {
      if (typeof value === 'string') strings.add(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    const pages = async (path: string): Promise<unknown[]> => {
      const items: unknown[] = [];
      for (let cursor: string | null = null, first = true; first || cursor; first = false) {
        const query: string = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await request(t.http).get(`${path}${query}`).set('Authorization', `Bearer ${h.key}`);
        if (res.status !== 200) throw new Error(`read back: GET ${path} answered ${res.status}`);
        items.push(...(res.body.data as unknown[]));
        cursor = res.body.nextCursor as string | null;
      }
      return items;
    };
    const lists = operations.filter((o) => o.method === 'get' && o.parameters.some((p) => p.name === 'cursor'));
    const chatList = lists.find((o) => o.path.endsWith('/chats'));
    const chatIds = chatList ? (await pages(fillPath(chatList.path, { sid: h.sid }))).map((c) => (c as { id: string }).id) : [];
    for (const op of lists) {
      for (const cid of op.path.includes('{cid}') ? chatIds : [h.jids[0]]) {
        collect(await pages(fillPath(op.path, { ...fixtureIds(), cid })));
      }
    }
    // A created group is not listed: it is read from the cache.
    const created = await request(t.http).get(`/api/v1/sessions/${h.sid}/groups/${CREATED_GROUP}`).set('Authorization', `Bearer ${h.key}`);
    if (created.status === 200) collect(created.body);
    return strings;
  }

  it('answers nasty text in every string field of every body with 422, or stores it exactly', async () => {
    const failures: string[] = [];
    const covered: string[] = [];
    let stored = 0;
    for (const op of operations.filter((o) => o.body)) {
      const documented = documentedBody(doc, op);
      expect([op.key, documented]).toEqual([op.key, expect.any(Object)]);
      const path = fillPath(op.path, fixtureIds());
      for (const { base, field } of [documented, ...variantBodies(op, h.messageIds[h.jids[0]][1])].flatMap((base) =>
        stringFields(base).map((field) => ({ base, field })),
      )) {
        covered.push(`${op.key} ${field.join('.')}`);
        for (const [name, text] of NASTY_TEXT) {
          const label = `${op.key} ${field.join('.')} = ${name}`;
          await checkOne(async () => {
            const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
            const res = await agent[op.method](path).set('Authorization', `Bearer ${h.key}`).send(withValueAt(base, field, text) as object);
            if (res.status >= 200 && res.status < 300) {
              stored += 1;
              const removes = REMOVING_VALUES[`${op.key} ${field.join('.')}`]?.includes(text) ?? false;
              if (!removes && !(await readBack()).has(text)) failures.push(`${label}: answered ${res.status}, but does not read back as sent`);
            } else if (res.status !== 422 && res.status < 500) {
              failures.push(`${label}: answered ${res.status} ${res.text.slice(0, 200)}`);
            }
            return res;
          }, label).catch((error: unknown) => failures.push(String(error).slice(0, 600)));
        }
      }
    }
    expect(failures).toEqual([]);
    // The fields were found in the document, and the text reached the database, not only the validators.
    expect(covered).toEqual(
      expect.arrayContaining([
        'POST /api/v1/sessions name',
        'POST /api/v1/api-keys name',
        'POST /api/v1/sessions/{sid}/chats/{cid}/messages text',
        'POST /api/v1/sessions/{sid}/pairing-code phoneNumber',
        'POST /api/v1/sessions/{sid}/groups subject',
        'POST /api/v1/sessions/{sid}/events events.1.chat.name',
        'POST /api/v1/sessions/{sid}/events events.2.message.text',
        'POST /api/v1/webhooks url',
        'POST /api/v1/webhooks description',
        'PATCH /api/v1/webhooks/{id} description',
        'POST /api/v1/sessions/{sid}/chats/{cid}/messages replyTo',
        'POST /api/v1/sessions/{sid}/chats/{cid}/messages location.name',
        'POST /api/v1/sessions/{sid}/chats/{cid}/messages location.address',
        'POST /api/v1/sessions/{sid}/chats/{cid}/messages contacts.0.name',
        'POST /api/v1/sessions/{sid}/chats/{cid}/messages contacts.0.phoneNumber',
        'PUT /api/v1/sessions/{sid}/chats/{cid}/messages/{mid}/reaction emoji',
        'PATCH /api/v1/sessions/{sid}/chats/{cid}/messages/{mid} text',
        'POST /api/v1/sessions/{sid}/chats/{cid}/presence state',
      ]),
    );
    expect(stored).toBeGreaterThan(20);
  }, SEARCH_TIMEOUT_MS);

  it('answers forged cursors with out-of-range values on every list with 422 or a page, never 5xx', async () => {
    const extremes = [2 ** 53 - 1, -(2 ** 53 - 1), 8.64e15 + 1, -1, 0];
    const forged = extremes.flatMap((n) => [encodeCursor([n, 'x'.repeat(300)]), encodeCursor([n, '']), encodeCursor([String(n), n])]);
    const failures: string[] = [];
    for (const op of operations.filter((o) => o.method === 'get' && o.parameters.some((p) => p.name === 'cursor'))) {
      for (const cursor of forged) {
        const path = `${fillPath(op.path, fixtureIds())}?cursor=${encodeURIComponent(cursor)}`;
        await checkOne(async () => {
          const res = await request(t.http).get(path).set('Authorization', `Bearer ${h.key}`);
          if (res.status !== 422 && res.status !== 200 && res.status < 500) failures.push(`${op.key} ${cursor}: ${res.status} ${res.text.slice(0, 200)}`);
          return res;
        }, `${op.key} with the forged cursor ${cursor}`).catch((error: unknown) => failures.push(String(error).slice(0, 600)));
      }
    }
    expect(failures).toEqual([]);
  }, SEARCH_TIMEOUT_MS);

  it('answers unknown routes and methods with 404 in the envelope', async () => {
    const segment = fc.oneof(fc.constantFrom('api', 'v1', 'v2', 'sessions', 'chats', 'messages', 'events', 'api-keys', '..', 'docs-json'), hostileString);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('get', 'post', 'put', 'patch', 'delete'),
        fc.array(segment, { minLength: 1, maxLength: 7 }),
        authArb,
        (method, segments, auth) => {
          const path = `/${segments.map(encodeHostile).join('/')}`;
          const known = operations.some((op) => op.method === method && new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`).test(path));
          return checkOne(() => {
            const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
            const req = agent[method](path);
            return auth === null ? req.set('Authorization', `Bearer ${h.key}`) : req.set('Authorization', headerSafe(auth));
          }, `${method} ${path}${known ? ' (a real route)' : ''}`);
        },
      ),
      { numRuns: RANDOM_ROUTE_RUNS, endOnFailure: true },
    );
  });

  it('answers a request head over the server limit (long URL, long header) in the envelope', async () => {
    for (const send of [
      () => request(t.http).get(`/api/v1/sessions/${'x'.repeat(20_000)}`).set('Authorization', `Bearer ${h.key}`),
      () => request(t.http).get('/api/v1/sessions').set('Authorization', `Bearer ${h.key}`).set('X-Filler', 'y'.repeat(20_000)),
    ]) {
      await checkOne(send, 'a 20 kB request head');
    }
  });

  it('answers bodies over the limits with 413 and stores nothing', async () => {
    const events = operations.find((op) => op.path.endsWith('/events') && op.method === 'post');
    const patch = operations.find((op) => op.method === 'patch');
    expect(events && patch).toBeTruthy();
    const big = (bytes: number) => JSON.stringify({ name: 'x'.repeat(bytes) });
    const chatPath = fillPath(patch!.path, { sid: h.sid, cid: h.jids[0] });
    for (const [path, bytes] of [
      [chatPath, 1024 * 1024 + 1],
      [fillPath(events!.path, { sid: h.sid }), 8 * 1024 * 1024 + 1],
    ] as const) {
      await checkOne(async () => {
        const res = await request(t.http)[path === chatPath ? 'patch' : 'post'](path)
          .set('Authorization', `Bearer ${h.key}`)
          .set('Content-Type', 'application/json')
          .send(big(bytes));
        expect(res.status).toBe(413);
        expect(res.body.error.code).toBe('payload_too_large');
        return res;
      }, `${bytes} bytes to ${path}`);
    }
  });
});
