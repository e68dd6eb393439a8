import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ToInteger } from '../validation/query-transforms';

export const DEFAULT_PAGE_LIMIT = 50;

export class PageQueryDto {
  /** Page size. */
  // Declared because the plugin reads `number` from the TypeScript type; the API takes an integer.
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: DEFAULT_PAGE_LIMIT })
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
