import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length, Matches } from 'class-validator';

export const MAX_TEXT_LENGTH = 4096;
/** Text PostgreSQL and WhatsApp can carry: no NUL, no lone UTF-16 surrogate. */
const STORABLE_TEXT = /^[^\0\uD800-\uDFFF]*$/u;

/** A message to send. Only text for now. */
export class SendMessageDto {
  @ApiProperty({ enum: ['text'], example: 'text' })
  @IsIn(['text'])
  type!: 'text';

  @ApiProperty({
    minLength: 1,
    maxLength: MAX_TEXT_LENGTH,
    description: 'The text, 1 to 4096 characters; a NUL character is refused.',
    example: 'Pesanan Anda sudah dikirim.',
  })
  @IsString()
  @Length(1, MAX_TEXT_LENGTH)
  @Matches(STORABLE_TEXT, { message: 'must not contain NUL characters or unpaired surrogates' })
  text!: string;
}
