import { Module } from '@nestjs/common';
import { GroupsRepository } from './groups.repository';

@Module({
  providers: [GroupsRepository],
  exports: [GroupsRepository],
})
export class GroupsModule {}
