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
});
