import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { buildOpenApiDocument } from './app.factory';
import { AppModule } from './app.module';
import { createLogger } from './common/logging/logger';
import { loadConfig } from './config/app-config';

/**
 * Writes the OpenAPI document to the file named by the first argument (stdout without one),
 * without a database: Nest's preview mode resolves modules and routes but instantiates nothing.
 */
async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, DATABASE_URL: 'postgres://unused@127.0.0.1/unused' });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, createLogger('silent')), {
    preview: true,
    logger: false,
  });
  const json = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  if (process.argv[2]) writeFileSync(process.argv[2], json);
  else process.stdout.write(json);
  await app.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`could not build the OpenAPI document: ${String(error)}\n`);
  process.exit(1);
});
