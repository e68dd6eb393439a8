import request from 'supertest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

interface Media {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, Media>;
}

interface Parameter {
  name: string;
  in: string;
  schema?: { pattern?: string; minLength?: number; maxLength?: number; example?: unknown };
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, Response>;
}

const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

/** The example bodies of a response: its one `example`, or each of its named `examples`. */
const examplesOf = (media: Media | undefined): unknown[] =>
  media?.examples ? Object.values(media.examples).map((e) => e.value) : [media?.example];

/** What a client author relies on in the document, checked on every operation. */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let operations: [string, Operation][];
  let schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
  let info: { description: string };

  beforeAll(async () => {
    // A rate limit high enough never to be hit, so that its headers are sent.
    t = await startTestApp({ RATE_LIMIT_PER_MINUTE: '100000' });
    const doc = (await request(t.http).get('/docs-json')).body;
    schemas = doc.components.schemas;
    info = doc.info;
    operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
    );
  });
  afterAll(() => t.close());

  it('gives every operation a unique operationId and a summary', () => {
    const ids = operations.map(([, op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.filter(([, op]) => !op.summary).map(([name]) => name)).toEqual([]);
  });

  it('states the capability of every protected operation and documents 401/403 for it', () => {
    for (const [name, op] of operations.filter(([, o]) => o.security && o.security.length > 0)) {
      expect([name, op.description]).toEqual([name, expect.stringMatching(/Requires the `(read|send|manage|ingest)` capability\./)]);
      expect([name, Object.keys(op.responses)]).toEqual([name, expect.arrayContaining(['401', '403'])]);
    }
  });

  it('documents every error response with the envelope schema and an example envelope', () => {
    for (const [name, op] of operations) {
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => Number(s) >= 400)) {
        const json = response.content?.['application/json'];
        expect([name, status, JSON.stringify(json?.schema)]).toEqual([name, status, expect.stringContaining('ErrorEnvelopeDto')]);
        // One example, or several named ones when a status has several causes.
        const examples = json?.examples ? Object.values(json.examples).map((e) => e.value) : [json?.example];
        for (const example of examples) {
          expect([name, status, example]).toEqual([
            name,
            status,
            { error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) } },
          ]);
        }
      }
    }
  });

  it('gives the resources real-looking examples (JIDs, ULIDs, epoch ms)', () => {
    const example = (schema: string, property: string) => schemas[schema].properties?.[property]?.example;
    expect(example('ChatDto', 'id')).toMatch(/^\d+(-\d+)?@(s\.whatsapp\.net|g\.us)$/);
    expect(example('MessageDto', 'chatId')).toMatch(/^\d+(-\d+)?@(s\.whatsapp\.net|g\.us)$/);
    expect(example('SessionDto', 'id')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(example('MessageDto', 'timestamp')).toEqual(expect.any(Number));
    for (const dto of ['ChatDto', 'MessageDto', 'SessionDto', 'ApiKeyDto']) {
      const missing = Object.entries(schemas[dto].properties ?? {}).filter(([, p]) => !('example' in p)).map(([k]) => k);
      expect([dto, missing]).toEqual([dto, []]);
    }
  });

  /** Each operation's path with its parameters filled from their documented examples. */
  const examplePath = (path: string, op: Operation): string =>
    path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const parameter = op.parameters?.find((p) => p.in === 'path' && p.name === name);
      const example = parameter?.example ?? parameter?.schema?.example ?? Object.values(parameter?.examples ?? {})[0]?.value;
      return encodeURIComponent(String(example));
    });

  const send = (name: string, path: string, op: Operation) => {
    const method = name.split(' ')[0].toLowerCase();
    const agent = request(t.http) as unknown as Record<string, (url: string) => request.Test>;
    return agent[method](examplePath(path, op));
  };

  const pathOf = (name: string) => name.slice(name.indexOf(' ') + 1);

  it('documents the 500 envelope, with its errorId, on every operation', () => {
    for (const [name, op] of operations) {
      const json = op.responses['500']?.content?.['application/json'];
      expect([name, JSON.stringify(json?.schema)]).toEqual([name, expect.stringContaining('ErrorEnvelopeDto')]);
      expect([name, json?.example]).toEqual([
        name,
        { error: { code: 'internal_error', message: 'internal error', details: { errorId: expect.any(String) } } },
      ]);
    }
  });

  it('documents 422 for malformed JSON and 413 for a body over the limit on every operation, as they are answered', async () => {
    // The JSON parser runs before any route and reads the body of any method. A credential is
    // sent because a large body (the ingestion and send routes') is parsed only for an authenticated
    // caller. A file upload reads its own body after authentication; its 413 is the file's limit.
    const key = await createKey(t, uniqueOrg());
    for (const [name, op] of operations.filter(([, o]) => !o.requestBody || o.requestBody.content['application/json'])) {
      const documented422 = examplesOf(op.responses['422']?.content?.['application/json']);
      const malformed = await send(name, pathOf(name), op).set('Authorization', `Bearer ${key}`).set('Content-Type', 'application/json').send('{"a":');
      expect([name, malformed.status]).toEqual([name, 422]);
      expect([name, documented422]).toEqual([name, expect.arrayContaining([malformed.body])]);

      const documented413 = op.responses['413']?.content?.['application/json']?.example as { error: { details: { limitBytes: number } } };
      expect([name, documented413?.error.details.limitBytes]).toEqual([name, expect.any(Number)]);
      const limit = documented413.error.details.limitBytes;
      const over = await send(name, pathOf(name), op)
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/json')
        .send(`"${'x'.repeat(limit)}"`);
      expect([name, over.status, over.body]).toEqual([name, 413, documented413]);
    }
  });

  it('declares the RateLimit headers on every answer past authentication, as they are sent', async () => {
    for (const [name, op] of operations.filter(([, o]) => o.security?.length)) {
      for (const [status, response] of Object.entries(op.responses).filter(([s]) => s !== '401')) {
        expect([name, status, Object.keys(response.headers ?? {})]).toEqual([name, status, expect.arrayContaining(RATE_LIMIT_HEADERS)]);
      }
    }
    const key = await createKey(t, uniqueOrg());
    const res = await request(t.http).get('/api/v1/sessions').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(200);
    for (const header of RATE_LIMIT_HEADERS) expect([header, res.headers[header.toLowerCase()]]).toEqual([header, expect.stringMatching(/^\d+$/)]);
  });

  it('declares Retry-After on every 429 and 503, and X-Request-Id on every answer', () => {
    for (const [name, op] of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const headers = Object.keys(response.headers ?? {});
        expect([name, status, headers]).toEqual([name, status, expect.arrayContaining(['X-Request-Id'])]);
        if (status === '429' || status === '503') {
          expect([name, status, headers]).toEqual([name, status, expect.arrayContaining(['Retry-After'])]);
        }
      }
    }
  });

  it('closes every object of every request body: unknown fields are 422', async () => {
    const open: string[] = [];
    const seen = new Set<Schema>();
    const walk = (schema: Schema | undefined, at: string): void => {
      if (!schema) return;
      const resolved = schema.$ref ? (schemas[schema.$ref.replace('#/components/schemas/', '')] as Schema) : schema;
      if (seen.has(resolved)) return;
      seen.add(resolved);
      if (resolved.properties && resolved.additionalProperties !== false) open.push(at);
      for (const [key, property] of Object.entries(resolved.properties ?? {})) walk(property, `${at}.${key}`);
      walk(resolved.items, `${at}[]`);
      [...(resolved.oneOf ?? []), ...(resolved.anyOf ?? []), ...(resolved.allOf ?? [])].forEach((part, i) => walk(part, `${at}|${i}`));
    };
    const bodies = operations.filter(([, op]) => op.requestBody);
    expect(bodies.length).toBeGreaterThanOrEqual(6);
    for (const [name, op] of bodies) walk(op.requestBody!.content['application/json']?.schema as Schema, name);
    expect(open).toEqual([]);
    // What the document says is what the gateway does.
    const key = await createKey(t, uniqueOrg());
    const res = await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${key}`).send({ name: 'n', extra: 1 });
    expect([res.status, res.body.error?.details?.fields]).toEqual([422, { extra: [expect.any(String)] }]);
  });

  it('bounds every path parameter with a pattern and lengths that its examples meet', () => {
    const params = operations.flatMap(([name, op]) => (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => [name, p] as const));
    expect(params.length).toBeGreaterThan(10);
    for (const [name, p] of params) {
      const { pattern, minLength, maxLength } = p.schema ?? {};
      expect([name, p.name, typeof pattern, minLength, maxLength]).toEqual([name, p.name, 'string', expect.any(Number), expect.any(Number)]);
      const examples = [p.example, p.schema?.example, ...Object.values(p.examples ?? {}).map((e) => e.value)].filter((e) => e !== undefined);
      expect([name, p.name, examples.length > 0]).toEqual([name, p.name, true]);
      for (const example of examples as string[]) {
        expect([name, p.name, example, new RegExp(pattern!).test(example), example.length >= minLength! && example.length <= maxLength!]).toEqual([
          name,
          p.name,
          example,
          true,
          true,
        ]);
      }
    }
  });

  it('says that the API serves no CORS, and it does not', async () => {
    expect(info.description).toMatch(/no CORS/);
    const preflight = await request(t.http)
      .options('/api/v1/sessions')
      .set('Origin', 'https://elsewhere.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const key = await createKey(t, uniqueOrg());
    const simple = await request(t.http).get('/api/v1/sessions').set('Origin', 'https://elsewhere.example').set('Authorization', `Bearer ${key}`);
    expect(simple.status).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
  });
});
