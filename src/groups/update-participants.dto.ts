import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsString, Matches, ValidateIf } from 'class-validator';
import { PHONE_NUMBER_PATTERN, PHONE_NUMBER_RULE } from '../contacts/lookup-numbers.dto';

const Numbers = (description: string): PropertyDecorator =>
  applyDecorators(
    ApiProperty({
      type: [String],
      required: false,
      minItems: 1,
      maxItems: 50,
      uniqueItems: true,
      items: { type: 'string', pattern: PHONE_NUMBER_PATTERN.source },
      description,
      example: ['6281234567890'],
    }),
    // Absent is absent; null is a wrong type, not an absent action.
    ValidateIf((_body: object, value: unknown) => value !== undefined),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(50),
    ArrayUnique(),
    IsString({ each: true }),
    Matches(PHONE_NUMBER_PATTERN, { each: true, message: `each value ${PHONE_NUMBER_RULE}` }),
  );

/** Exactly one of the four actions, with 1 to 50 numbers (digits, international format). */
export class UpdateParticipantsDto {
  @Numbers('Numbers to add to the group.')
  add?: string[];

  @Numbers('Participants to remove.')
  remove?: string[];

  @Numbers('Participants to make admins.')
  promote?: string[];

  @Numbers('Admins to make plain members again.')
  demote?: string[];
}
