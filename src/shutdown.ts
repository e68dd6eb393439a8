import { NestExpressApplication } from '@nestjs/platform-express';
import { EventFeedService } from './events/event-feed.service';
import { EventStreamService } from './events/event-stream.service';
import { HealthService } from './health/health.service';
import { MessageSendService } from './messages/message-send.service';
import { SessionConnectorService } from './sessions/session-connector.service';
import { StoredCopyPurger } from './sessions/stored-copy-purger.service';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.service';
import { BaileysProvider } from './whatsapp/baileys/baileys.provider';

/** From the signal until the process has exited (API.md §5). */
export const SHUTDOWN_GRACE_MS = 10_000;
/** Shares of the grace: requests and the sends they accepted finish by the first, WhatsApp sockets
 * close (their last events written) by the second; the rest closes the pool and the database. */
const DRAIN_SHARE = 0.75;
const CLOSE_SHARE = 0.85;

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/**
 * The first part of a graceful shutdown, before `app.close()`. Nest would run every
 * before-shutdown hook, one module after another, before it stops the HTTP server: sends and
 * WhatsApp sockets drained one after the other while new requests still came in. Here the order
 * is: stop accepting (readiness 503, no new connections), then in parallel let the requests in
 * flight and the sends they accepted finish while the background loops stop, then close the
 * WhatsApp sockets, all within shares of `graceMs`. The hooks `app.close()` runs afterwards find
 * nothing left to wait for.
 */
export async function drainForShutdown(app: NestExpressApplication, graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  const started = Date.now();
  const left = (share: number) => Math.max(0, started + graceMs * share - Date.now());
  const server = app.getHttpServer();

  app.get(HealthService).beginShutdown();
  // Event streams and long-polls would otherwise wait for events until the grace runs out.
  app.get(EventStreamService).beginShutdown();
  app.get(EventFeedService).beginShutdown();
  const requestsDone = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection whose request is done would otherwise stay open until its idle timeout.
  const closeIdle = setInterval(() => server.closeIdleConnections(), 100);
  try {
    const sends = app.get(MessageSendService);
    await Promise.all([
      // Sends are awaited once no request can accept another.
      within(requestsDone, left(DRAIN_SHARE)).then(() => sends.drain(left(DRAIN_SHARE))),
      app.get(SessionConnectorService).stopReconnecting(),
      app.get(StoredCopyPurger).stop(),
      // Webhook attempts in flight finish or are given back, due again on another replica.
      app.get(WebhookDispatcher).stop(left(DRAIN_SHARE)),
    ]);
    // Out of time: what is still connected is cut rather than holding the exit.
    server.closeAllConnections();
    await app.get(BaileysProvider).closeAll(left(CLOSE_SHARE));
  } finally {
    clearInterval(closeIdle);
  }
}
