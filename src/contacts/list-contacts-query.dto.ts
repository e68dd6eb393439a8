import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { StoredText } from '../common/validation/stored-text';

export class ListContactsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description:
      'Only contacts whose name (as saved, else as the person set it) starts with this, case-insensitively, or whose number starts with it (digits).',
    example: 'bud',
  })
  @IsOptional()
  @StoredText({ min: 1, max: 100 })
  q?: string;
}
