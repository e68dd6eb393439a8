import createClient from 'openapi-fetch';
import type { paths } from './generated/gateway-api';

/**
 * A client typed from the gateway's own OpenAPI document (`npm run client:generate` writes
 * `generated/gateway-api.ts` from `/docs-json`). Walks one chat: finds the newest session, takes
 * its most recently active chat, reads its whole history page by page and archives it.
 */
export async function archiveMostRecentChat(baseUrl: string, apiKey: string) {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

  const sessions = await api.GET('/api/v1/sessions', { params: { query: { limit: 1 } } });
  if (!sessions.data) throw new Error(`listing sessions failed: ${JSON.stringify(sessions.error)}`);
  const session = sessions.data.data[0];
  if (!session) return { session: null };

  const chats = await api.GET('/api/v1/sessions/{sid}/chats', {
    params: { path: { sid: session.id }, query: { limit: 1 } },
  });
  if (!chats.data) throw new Error(`listing chats failed: ${JSON.stringify(chats.error)}`);
  const chat = chats.data.data[0];
  if (!chat) return { session: session.id, chat: null };

  const messageIds: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.GET('/api/v1/sessions/{sid}/chats/{cid}/messages', {
      params: { path: { sid: session.id, cid: chat.id }, query: { limit: 20, cursor } },
    });
    if (!page.data) throw new Error(`listing messages failed: ${JSON.stringify(page.error)}`);
    messageIds.push(...page.data.data.map((m) => m.id));
    cursor = page.data.nextCursor ?? undefined;
  } while (cursor);

  const archived = await api.PATCH('/api/v1/sessions/{sid}/chats/{cid}', {
    params: { path: { sid: session.id, cid: chat.id } },
    body: { archived: true },
  });
  if (!archived.data) throw new Error(`archiving failed: ${JSON.stringify(archived.error)}`);
  return { session: session.id, chat: chat.id, messageIds, archived: archived.data.archived };
}

if (require.main === module) {
  const [baseUrl = 'http://localhost:3000', apiKey = process.env.GATEWAY_API_KEY] = process.argv.slice(2);
  if (!apiKey) {
    process.stderr.write('usage: gateway-client.ts [baseUrl] <apiKey>  (or GATEWAY_API_KEY)\n');
    process.exit(2);
  }
  archiveMostRecentChat(baseUrl, apiKey).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
