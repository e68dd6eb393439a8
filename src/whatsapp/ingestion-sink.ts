import { GatewayEvent } from '../domain/gateway-events';

/**
 * Where a provider's events go. Providers never write the stored copy themselves: the ingestion
 * module binds this token to its service, which applies a batch whole, in order, or rejects it
 * whole.
 */
export abstract class IngestionSink {
  /** `history` marks a history sync: its events are recorded with `history: true` (API.md §7). */
  abstract ingest(sessionId: string, events: GatewayEvent[], history?: boolean): Promise<unknown>;
}
