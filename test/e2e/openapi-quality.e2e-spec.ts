import request from 'supertest';
import { startTestApp, TestApp } from '../support/test-app';

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown; examples?: Record<string, { value: unknown }> }> }>;
}

/** What a client author relies on in the document, checked on every operation. */
describe('the OpenAPI document', () => {
  let t: TestApp;
  let operations: [string, Operation][];
  let schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }>;

  beforeAll(async () => {
    t = await startTestApp();
    const doc = (await request(t.http).get('/docs-json')).body;
    schemas = doc.components.schemas;
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
});
