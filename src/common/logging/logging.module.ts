import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger } from 'pino';

/** DI token for the root pino logger; inject with `@Inject(LOGGER)`. */
export const LOGGER = Symbol('LOGGER');

@Global()
@Module({})
export class LoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return { module: LoggingModule, providers: [{ provide: LOGGER, useValue: logger }], exports: [LOGGER] };
  }
}
