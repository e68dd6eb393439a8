import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventLogModule } from '../events/event-log.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { SessionConnectorService } from './session-connector.service';
import { SessionEntity } from './session.entity';
import { SessionOwnershipService } from './session-ownership.service';
import { SessionsController } from './sessions.controller';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity]), ProvidersModule, EventLogModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, SessionConnectorService, SessionOwnershipService],
  exports: [SessionsRepository, SessionsService],
})
export class SessionsModule {}
