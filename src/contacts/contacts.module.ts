import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { ContactsController } from './contacts.controller';
import { ContactsRepository } from './contacts.repository';
import { ContactsService } from './contacts.service';
import { DirectoryActions } from './directory-actions.service';
import { NumberLookupsRepository } from './number-lookups.repository';
import { NumberLookupsService } from './number-lookups.service';

@Module({
  imports: [SessionsModule, ProvidersModule],
  controllers: [ContactsController],
  providers: [ContactsRepository, ContactsService, DirectoryActions, NumberLookupsRepository, NumberLookupsService],
  exports: [ContactsRepository, DirectoryActions],
})
export class ContactsModule {}
