import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { ApiKeysService } from './auth/api-keys/api-keys.service';
import { CliUsageError, parseArgs, USAGE } from './cli/cli-args';
import { openCliDatabase } from './cli/cli-database';
import { CliModule } from './cli/cli.module';
import { runApiKeysCommand } from './cli/api-keys.command';
import { AppError } from './common/errors/app-error';
import { PinoNestLogger } from './common/logging/logger';
import { ConfigError, loadConfig } from './config/app-config';

/** Exit statuses: 1 when the command failed, 2 when it could not be understood. */
const FAILED = 1;
const USAGE_ERROR = 2;

function fail(status: number, message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(status);
}

async function main(): Promise<void> {
  let command;
  let config;
  try {
    command = parseArgs(process.argv.slice(2));
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof CliUsageError) fail(USAGE_ERROR, `${error.message} (see --help)`);
    if (error instanceof ConfigError) fail(FAILED, error.message);
    throw error;
  }
  if (command.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Logs go to stderr, so that stdout carries only the command's output; quiet unless asked.
  const logger = pino({ level: process.env.LOG_LEVEL ? config.logLevel : 'warn', base: undefined }, pino.destination(2));
  const database = await openCliDatabase(config, logger);
  config.databaseUrl = database.url;
  try {
    const context = await NestFactory.createApplicationContext(CliModule.forRoot(config, logger), {
      logger: new PinoNestLogger(logger),
    });
    try {
      await runApiKeysCommand(command, context.get(ApiKeysService), (text) => process.stdout.write(`${text}\n`));
    } finally {
      await context.close();
    }
  } finally {
    await database.release();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof CliUsageError) fail(USAGE_ERROR, `${error.message} (see --help)`);
    if (error instanceof AppError) fail(FAILED, error.message);
    fail(FAILED, error instanceof Error ? error.message : String(error));
  },
);
