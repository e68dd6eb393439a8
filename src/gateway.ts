import { join } from 'node:path';
import { createApp } from './app.factory';
import { AppModule, AppModuleOptions } from './app.module';
import { createLogger } from './common/logging/logger';
import { ConfigError, loadConfig } from './config/app-config';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { drainForShutdown, SHUTDOWN_GRACE_MS } from './shutdown';

/**
 * The gateway process: configuration, the embedded PostgreSQL when no `DATABASE_URL` is set, the
 * app, and the graceful shutdown on SIGTERM/SIGINT. `options` replace parts of the app (a test
 * harness runs the process with stand-in WhatsApp sockets).
 */
export async function runGateway(options: AppModuleOptions = {}): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres(join(config.dataDir, 'postgres'), config.embeddedPostgresPort, logger);
    config.databaseUrl = embedded.url;
  }

  const app = await createApp(config, logger, AppModule.forRoot(config, logger, options));
  await app.listen(config.port);
  logger.info({ port: config.port, docs: `/docs` }, 'gateway listening');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    try {
      await drainForShutdown(app);
      // What is left: the hooks (with nothing more to wait for), the pool, then the database.
      await app.close();
      await embedded?.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  // A stray rejection in a background task is a bug to log, not a reason to drop every session.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
