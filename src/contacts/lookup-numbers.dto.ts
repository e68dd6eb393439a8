import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Matches } from 'class-validator';

/** A phone number as the §10 routes take it: digits only, in international format. */
export const PHONE_NUMBER_PATTERN = /^[0-9]{5,20}$/;
export const PHONE_NUMBER_RULE = 'must be 5 to 20 digits, in international format without + or spaces';

export class LookupNumbersDto {
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 50,
    uniqueItems: true,
    items: { type: 'string', pattern: PHONE_NUMBER_PATTERN.source },
    description: 'The numbers to look up: 5 to 20 digits in international format (no `+` or spaces), no duplicates.',
    example: ['6281234567890', '6289876543210'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(PHONE_NUMBER_PATTERN, { each: true, message: `each value ${PHONE_NUMBER_RULE}` })
  phoneNumbers!: string[];
}

export class NumberLookupDto {
  /** The number as asked. @example "6281234567890" */
  phoneNumber!: string;

  /** Whether the number has a WhatsApp account. @example true */
  exists!: boolean;

  @ApiProperty({ type: 'string', nullable: true, description: 'The JID to message it at; null when it has no account.', example: '6281234567890@s.whatsapp.net' })
  jid!: string | null;
}

export class NumberLookupListDto {
  /** One entry per asked number, in the order asked. */
  data!: NumberLookupDto[];
}
