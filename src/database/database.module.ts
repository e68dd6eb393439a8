import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { runMigrationsLocked } from './migrations';
import { MIGRATIONS } from './migrations/index';

export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  if (!config.databaseUrl) throw new Error('database URL must be resolved before the app starts');
  return {
    type: 'postgres',
    url: config.databaseUrl,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    logging: false,
    extra: {
      max: config.databasePoolSize,
      // A down database must turn into a prompt 503, not a request that hangs.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      application_name: 'whatsapp-gateway',
      // No request waits on the database without bound: past these it fails (503) instead.
      statement_timeout: config.databaseStatementTimeoutMs,
      lock_timeout: config.databaseLockTimeoutMs,
    },
  };
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config), autoLoadEntities: true }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        await runMigrationsLocked(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
