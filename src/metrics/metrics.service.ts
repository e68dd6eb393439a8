import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

interface PgPoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * The gateway's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * that each app instance counts only its own traffic.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly httpInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being handled right now',
    registers: [this.registry],
  });

  readonly ingestedEvents = new Counter({
    name: 'gateway_ingested_events_total',
    help: 'Events applied to stored copies, by session provider',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly storedMessages = new Counter({
    name: 'gateway_messages_stored_total',
    help: 'Messages inserted or updated by ingestion, by session provider',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly sends = new Counter({
    name: 'gateway_sends_total',
    help: 'Outgoing messages by outcome (sent, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly events = new Counter({
    name: 'gateway_events_total',
    help: 'Events written to the event log, by type (counted when written: a transaction rolled back afterwards still counts)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly sessionsHeld = new Gauge({
    name: 'gateway_sessions_held',
    help: 'Sessions whose WhatsApp connection this replica holds',
    registers: [this.registry],
  });

  readonly sessionTakeovers = new Counter({
    name: 'gateway_session_takeovers_total',
    help: 'Sessions this replica took over because no replica held them',
    registers: [this.registry],
  });

  constructor(@InjectDataSource() dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'gateway_sessions',
      help: 'Sessions by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      // Read at scrape time: one grouped count, instead of bookkeeping on every status change.
      async collect() {
        this.reset();
        try {
          const rows: { status: string; count: string }[] = await dataSource.query(
            'SELECT status, count(*) AS count FROM sessions WHERE deleted_at IS NULL GROUP BY status',
          );
          for (const row of rows) this.set({ status: row.status }, Number(row.count));
        } catch {
          // A scrape while the database is down still reports everything else.
        }
      },
    });
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting clients)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const pool = (dataSource.driver as unknown as { master?: PgPoolStats }).master;
        if (!pool) return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  recordIngestion(provider: string, events: number, messages: number): void {
    this.ingestedEvents.inc({ provider }, events);
    if (messages > 0) this.storedMessages.inc({ provider }, messages);
  }

  recordSend(outcome: 'sent' | 'failed'): void {
    this.sends.inc({ outcome });
  }

  recordEvents(types: readonly string[]): void {
    const counts = new Map<string, number>();
    for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
    for (const [type, count] of counts) this.events.inc({ type }, count);
  }
}
