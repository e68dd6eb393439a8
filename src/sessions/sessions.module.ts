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
import { StoredCopyPurgeRepository } from './stored-copy-purge.repository';
import { StoredCopyPurger } from './stored-copy-purger.service';

@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity]), ProvidersModule, EventLogModule],
  controllers: [SessionsController],
  providers: [
    SessionsRepository,
    SessionsService,
    SessionConnectorService,
    SessionOwnershipService,
    StoredCopyPurgeRepository,
    StoredCopyPurger,
  ],
  exports: [SessionsRepository, SessionsService, StoredCopyPurger, SessionOwnershipService],
})
export class SessionsModule {}
