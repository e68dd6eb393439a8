import { DynamicModule, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { ApiKeysModule } from '../auth/api-keys/api-keys.module';
import { LoggingModule } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';

/** Only what the CLI's commands need: the database (migrated) and the API-key service. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(config), LoggingModule.forRoot(logger), DatabaseModule, ApiKeysModule],
    };
  }
}
