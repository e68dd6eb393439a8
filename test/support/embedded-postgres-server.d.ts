export interface EmbeddedPostgresServer {
  port: number;
  dir: string;
  /** The `postgres` maintenance database. */
  adminUrl: string;
  /** The `gateway` database. */
  url: string;
  /** Fast shutdown: open connections are cut, the data is kept. */
  stop(): Promise<void>;
  /** Starts the stopped cluster again on the same port. */
  start(): Promise<void>;
  /** The last lines PostgreSQL logged. */
  log(): Promise<string>;
  /** Stops the cluster and deletes its files. */
  destroy(): Promise<void>;
}

export function startEmbeddedPostgresServer(): Promise<EmbeddedPostgresServer>;
