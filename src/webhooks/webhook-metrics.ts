import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/** The webhook metrics of API.md §7, in the gateway's registry. */
@Injectable()
export class WebhookMetrics {
  readonly deliveries: Counter<'outcome'>;
  readonly deliverySeconds: Histogram;

  constructor(metrics: MetricsService, deliveries: WebhookDeliveriesRepository) {
    const registers = [metrics.registry];
    this.deliveries = new Counter({
      name: 'gateway_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retry (failed, to be attempted again), failed (given up)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'gateway_event_delivery_seconds',
      help: 'Seconds from an event being recorded to its webhook delivery being answered 2xx',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
      registers,
    });
    new Gauge({
      name: 'gateway_webhook_pending',
      help: 'Webhook deliveries not yet delivered nor given up (all replicas)',
      registers,
      // Read at scrape time: one count over the pending rows' index.
      async collect() {
        try {
          this.set(await deliveries.countPending());
        } catch {
          // A scrape while the database is down still reports everything else.
        }
      },
    });
  }
}
