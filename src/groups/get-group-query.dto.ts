import { IsBoolean, IsOptional } from 'class-validator';
import { ToBoolean } from '../common/validation/query-transforms';

export class GetGroupQueryDto {
  /** `true` asks WhatsApp even when the cache holds the group (and caches the answer). */
  @IsOptional()
  @ToBoolean()
  @IsBoolean()
  refresh?: boolean;
}
