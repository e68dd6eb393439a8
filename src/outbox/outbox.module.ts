import { Module } from '@nestjs/common';
import { OutboxRepository } from './outbox.repository';

/** The outbox table, for the modules that store changes to carry out on WhatsApp and the one that carries them out. */
@Module({ providers: [OutboxRepository], exports: [OutboxRepository] })
export class OutboxModule {}
