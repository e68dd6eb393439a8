import { GatewayEvent } from '../gateway-events';

/**
 * Where the provider's events go: the ingestion service that also serves the `external` route
 * (`IngestionService.ingest`). A batch is applied whole, in order, or rejected whole.
 */
export abstract class BaileysEventSink {
  abstract ingest(sessionId: string, events: GatewayEvent[]): Promise<unknown>;
}
