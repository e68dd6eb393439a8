import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);
// Asynchronous: the app answering the generator runs in this very process.
const run = promisify(execFile);
const CHAT = '120363025246125888@g.us';

describe('a client generated from /docs-json', () => {
  let t: TestApp;
  let baseUrl: string;
  let key: string;
  let sessionId: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    key = await createKey(t, uniqueOrg('client'));
    sessionId = (await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${key}`).send({ name: 'Sales' })).body.id;
    const events = Array.from({ length: 45 }, (_, i) => ({
      type: 'message.upsert',
      message: {
        id: `3EB0CLIENT${String(i).padStart(3, '0')}`,
        chatId: CHAT,
        fromMe: i % 2 === 0,
        senderId: '6281234567890@s.whatsapp.net',
        timestamp: 1732400000000 + i * 60_000,
        type: 'text',
        text: `message ${i}`,
        status: null,
      },
    }));
    const res = await request(t.http).post(`/api/v1/sessions/${sessionId}/events`).set('Authorization', `Bearer ${key}`).send({ events });
    expect(res.status).toBe(200);
  });
  afterAll(() => t.close());

  it('generates, type-checks and runs the example against the real app', async () => {
    await run(bin('openapi-typescript'), [`${baseUrl}/docs-json`, '-o', join(ROOT, 'examples/generated/gateway-api.ts')]);
    // A breaking change to the document breaks this type check.
    await run(bin('tsc'), ['-p', join(ROOT, 'examples/tsconfig.json')]);

    // Loaded by path so that linting does not need the generated file.
    const examplePath = join(ROOT, 'examples', 'gateway-client');
    const { archiveMostRecentChat } = (await import(examplePath)) as {
      archiveMostRecentChat: (baseUrl: string, apiKey: string) => Promise<unknown>;
    };
    const result = await archiveMostRecentChat(baseUrl, key);

    expect(result).toEqual({
      session: sessionId,
      chat: CHAT,
      messageIds: Array.from({ length: 45 }, (_, i) => `3EB0CLIENT${String(44 - i).padStart(3, '0')}`),
      archived: true,
    });
    const chat = await request(t.http).get(`/api/v1/sessions/${sessionId}/chats/${CHAT}`).set('Authorization', `Bearer ${key}`);
    expect(chat.body.archived).toBe(true);
  });
});
