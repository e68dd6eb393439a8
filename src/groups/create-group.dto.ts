import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Matches } from 'class-validator';
import { StoredText } from '../common/validation/stored-text';
import { PHONE_NUMBER_PATTERN, PHONE_NUMBER_RULE } from '../contacts/lookup-numbers.dto';

export class CreateGroupDto {
  /** The group's name, 1 to 100 characters (code points). @example "Toko Budi — pelanggan" */
  @StoredText({ min: 1, max: 100 })
  subject!: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 256,
    uniqueItems: true,
    items: { type: 'string', pattern: PHONE_NUMBER_PATTERN.source },
    description: 'The first participants: numbers as digits in international format, no duplicates. This number is the group\'s super admin.',
    example: ['6281234567890', '6289876543210'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(256)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(PHONE_NUMBER_PATTERN, { each: true, message: `each value ${PHONE_NUMBER_RULE}` })
  participants!: string[];
}
