import { IsBoolean, IsOptional } from 'class-validator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { ToBoolean } from '../common/validation/query-transforms';

export class ListChatsQueryDto extends PageQueryDto {
  /** Only archived (`true`) or only unarchived (`false`) chats. */
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  archived?: boolean;

  /** Only pinned (`true`) or only unpinned (`false`) chats. */
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  pinned?: boolean;
}
