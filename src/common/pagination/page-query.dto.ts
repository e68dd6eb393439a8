import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ToInteger } from '../validation/query-transforms';

export const DEFAULT_PAGE_LIMIT = 50;

export class PageQueryDto {
  /** Page size. */
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number = DEFAULT_PAGE_LIMIT;

  /** The `nextCursor` of the previous page; opaque. */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cursor?: string;
}
