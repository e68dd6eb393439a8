import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventLogModule } from '../events/event-log.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { HolderRelay } from './holder-relay.service';
import { HolderRequestsRepository } from './holder-requests.repository';
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
    HolderRelay,
    HolderRequestsRepository,
    StoredCopyPurgeRepository,
    StoredCopyPurger,
  ],
  exports: [SessionsRepository, SessionsService, StoredCopyPurger, SessionOwnershipService, HolderRelay],
})
export class SessionsModule {}
