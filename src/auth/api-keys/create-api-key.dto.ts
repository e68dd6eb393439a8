import { ApiProperty } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, Matches } from 'class-validator';
import { StoredText } from '../../common/validation/stored-text';
import { CAPABILITIES, Capability } from '../capability';

export class CreateApiKeyDto {
  /**
   * A label that says what the key is for.
   * @example "nightly export"
   */
  @StoredText({ min: 1, max: 100 })
  @Matches(/\S/, { message: 'must not be blank' })
  name!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...CAPABILITIES] },
    minItems: 1,
    uniqueItems: true,
    description: 'What the key may do; each must be held by the caller creating it.',
    example: ['read', 'send'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(CAPABILITIES, { each: true })
  capabilities!: Capability[];
}
