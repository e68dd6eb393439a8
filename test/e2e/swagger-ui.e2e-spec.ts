import { mkdirSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import request from 'supertest';
import { CHROMIUM_ARGS, chromiumExecutable } from '../support/chromium';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const CHAT = '6281234567890@s.whatsapp.net';

describe('the Swagger UI, driven by a person in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;
  let key: string;
  let sessionId: string;

  beforeAll(async () => {
    const executablePath = chromiumExecutable();
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    key = await createKey(t, uniqueOrg('swagger'));
    const session = await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${key}`).send({ name: 'Support line' });
    sessionId = session.body.id;
    const events = [1, 2, 3].map((n) => ({
      type: 'message.upsert',
      message: {
        id: `3EB0SWAGGER${n}`,
        chatId: CHAT,
        fromMe: false,
        senderId: CHAT,
        timestamp: 1732400000000 + n * 1000,
        type: 'text',
        text: `hello from the browser test ${n}`,
        status: null,
      },
    }));
    const ingested = await request(t.http)
      .post(`/api/v1/sessions/${sessionId}/events`)
      .set('Authorization', `Bearer ${key}`)
      .send({ events });
    expect(ingested.status).toBe(200);
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('authorizes with an API key and executes "list chat messages" for a seeded chat', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    await page.goto(`${baseUrl}/docs`);

    await page.locator('.auth-wrapper button.authorize').click();
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(key);
    await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();

    const operation = page.locator('#operations-messages-listChatMessages');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('tr[data-param-name="sid"] input').fill(sessionId);
    await operation.locator('tr[data-param-name="cid"] input').fill(CHAT);
    await operation.locator('button.execute').click();

    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    expect((await status.innerText()).trim()).toMatch(/^200/);
    const body = await operation.locator('.live-responses-table .response-col_description pre').first().innerText();
    const shown = JSON.parse(body);
    expect(shown.data.map((m: { id: string }) => m.id)).toEqual(['3EB0SWAGGER3', '3EB0SWAGGER2', '3EB0SWAGGER1']);
    expect(shown.nextCursor).toBeNull();

    mkdirSync(ARTIFACTS, { recursive: true });
    await operation.screenshot({ path: join(ARTIFACTS, 'swagger-ui-list-chat-messages.png') });
    await page.close();
  });
});
