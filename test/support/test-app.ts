import { DynamicModule } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Server } from 'node:http';
import { Logger } from 'pino';
import { createApp } from '../../src/app.factory';
import { AppModule, AppModuleOptions } from '../../src/app.module';
import { ApiKeysService } from '../../src/auth/api-keys/api-keys.service';
import { Capability, CAPABILITIES } from '../../src/auth/capability';
import { createLogger } from '../../src/common/logging/logger';
import { AppConfig, loadConfig } from '../../src/config/app-config';

export interface TestApp {
  app: NestExpressApplication;
  http: Server;
  close(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env.WGW_TEST_DATABASE_URL;
  if (!url) throw new Error('WGW_TEST_DATABASE_URL is not set: run the tests through jest (global setup)');
  return url;
}

/** The configuration of a test app: the run's database, quiet logs, no rate limits; `env` wins. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    DATABASE_URL: testDatabaseUrl(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WA_PROVIDER: 'external',
    RATE_LIMIT_PER_MINUTE: '0',
    AUTH_FAILURE_LIMIT_PER_MINUTE: '0',
    ...env,
  });
}

/**
 * The real gateway on the run's test database. `env` overrides configuration; `extraImports`
 * adds modules next to the real ones (for routes that only a test needs, like one that throws);
 * `options` replaces timings (a fast webhook retry schedule).
 */
export async function startTestApp(
  env: Record<string, string> = {},
  extraImports: DynamicModule['imports'] = [],
  logger?: Logger,
  options: AppModuleOptions = {},
): Promise<TestApp> {
  const config = testConfig(env);
  logger ??= createLogger(config.logLevel);
  const root: DynamicModule = { module: class TestRootModule {}, imports: [AppModule.forRoot(config, logger, options), ...(extraImports ?? [])] };
  const app = await createApp(config, logger, root);
  await app.init();
  return { app, http: app.getHttpServer(), close: () => app.close() };
}

let orgCounter = 0;
/** A fresh organization id, so tests sharing the run's database never see each other's data. */
export function uniqueOrg(label = 'org'): string {
  orgCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${orgCounter}`;
}

/** Mints an API key straight through the service, as the CLI does. */
export async function createKey(
  testApp: TestApp,
  orgId: string,
  capabilities: readonly Capability[] = CAPABILITIES,
): Promise<string> {
  const created = await testApp.app.get(ApiKeysService).create(orgId, { name: 'test', capabilities: [...capabilities] });
  return created.key;
}
