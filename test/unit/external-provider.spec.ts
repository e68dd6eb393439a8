import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/app-config';
import { ExternalProvider } from '../../src/whatsapp/external/external.provider';
import { ProviderRegistry } from '../../src/whatsapp/providers/provider-registry';

/** A connector on a local port that answers what `respond` says and records what it got. */
async function connector(respond: (body: unknown) => number | 'hang') {
  const received: { headers: IncomingHttpHeaders; body: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const body: unknown = JSON.parse(text);
      received.push({ headers: req.headers, body });
      const status = respond(body);
      if (status !== 'hang') res.writeHead(status).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
  const close = (): Promise<void> => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url, received, close };
}

function provider(sendUrl?: string, sendTimeoutMs?: number): ExternalProvider {
  const config = loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', ...(sendUrl ? { WA_EXTERNAL_SEND_URL: sendUrl } : {}) });
  return new ExternalProvider(new ProviderRegistry(config), config, sendTimeoutMs);
}

const session = { id: '01HF7Z3K8Q2V5N9T4W6X0Y1B2C', orgId: 'org' };
const message = { id: '01HF7Z3K8Q2V5N9T4W6X0Y1B2D', type: 'text' as const, text: 'halo' };

describe('external provider', () => {
  it('cannot send without a connector URL', async () => {
    const p = provider();
    expect(p.canSend()).toBe(false);
    await expect(p.send(session, '6281234567890@s.whatsapp.net', message)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('posts the message to the connector with the message id as idempotency key, and resolves on 2xx', async () => {
    const c = await connector(() => 202);
    try {
      const p = provider(c.url);
      expect(p.canSend()).toBe(true);
      await p.send(session, '6281234567890@s.whatsapp.net', message);
      expect(c.received).toEqual([
        {
          headers: expect.objectContaining({ 'idempotency-key': message.id, 'content-type': 'application/json' }),
          body: { sessionId: session.id, chatId: '6281234567890@s.whatsapp.net', message },
        },
      ]);
    } finally {
      await c.close();
    }
  });

  it('rejects on any other status, once, with no retry', async () => {
    const c = await connector(() => 500);
    try {
      await expect(provider(c.url).send(session, '6281234567890@s.whatsapp.net', message)).rejects.toThrow('the connector answered 500');
      expect(c.received).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  // The contract's 5 s is waited out end to end in send.e2e-spec; here the timeout is shortened.
  it('rejects when the connector does not answer within the send timeout', async () => {
    const c = await connector(() => 'hang');
    try {
      const started = Date.now();
      await expect(provider(c.url, 300).send(session, '6281234567890@s.whatsapp.net', message)).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(c.received).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('posts each conversation action as {sessionId, chatId, action} without an idempotency key, and rejects on a non-2xx', async () => {
    const c = await connector((body) => ((body as { action: { type: string } }).action.type === 'presence' ? 503 : 200));
    const chat = '120363025246125486@g.us';
    const target = { id: '3EB0AAAA', fromMe: false, senderId: '6281234567890@s.whatsapp.net' };
    try {
      const p = provider(c.url);
      await p.act(session, chat, { type: 'reaction', message: target, emoji: '👍' });
      await p.act(session, chat, { type: 'edit', message: { ...target, fromMe: true }, text: 'fixed' });
      await p.act(session, chat, { type: 'revoke', message: target });
      await p.act(session, chat, { type: 'read', messages: [target, { ...target, id: '3EB0BBBB' }] });
      await expect(p.act(session, chat, { type: 'presence', state: 'composing' })).rejects.toThrow('the connector answered 503');
      expect(c.received.map((r) => r.body)).toEqual(
        [
          { type: 'reaction', messageId: '3EB0AAAA', emoji: '👍' },
          { type: 'edit', messageId: '3EB0AAAA', text: 'fixed' },
          { type: 'revoke', messageId: '3EB0AAAA' },
          { type: 'read', messageIds: ['3EB0AAAA', '3EB0BBBB'] },
          { type: 'presence', state: 'composing' },
        ].map((action) => ({ sessionId: session.id, chatId: chat, action })),
      );
      for (const r of c.received) expect(r.headers['idempotency-key']).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it('posts replies, places and contact cards with their fields', async () => {
    const c = await connector(() => 200);
    const chat = '6281234567890@s.whatsapp.net';
    const replyTo = { id: '3EB0QUOTED', fromMe: false, senderId: chat, type: 'text' as const, text: 'jam berapa?' };
    try {
      const p = provider(c.url);
      await p.send(session, chat, { ...message, replyTo });
      const location = { latitude: -6.2, longitude: 106.8, name: 'Monas', address: null };
      await p.send(session, chat, { id: 'LOC1', type: 'location', location });
      const contacts = [{ name: 'Budi', phoneNumber: '6281234567890' }];
      await p.send(session, chat, { id: 'CARD1', type: 'contact', contacts, replyTo });
      expect(c.received.map((r) => r.body)).toEqual([
        { sessionId: session.id, chatId: chat, message: { ...message, replyTo: '3EB0QUOTED' } },
        { sessionId: session.id, chatId: chat, message: { id: 'LOC1', type: 'location', text: null, location } },
        { sessionId: session.id, chatId: chat, message: { id: 'CARD1', type: 'contact', text: null, contacts, replyTo: '3EB0QUOTED' } },
      ]);
    } finally {
      await c.close();
    }
  });
});
