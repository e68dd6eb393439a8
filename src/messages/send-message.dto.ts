import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { StoredText } from '../common/validation/stored-text';

export const MAX_TEXT_LENGTH = 4096;

/** A message to send. Only text for now. */
export class SendMessageDto {
  @ApiProperty({ enum: ['text'], example: 'text' })
  @IsIn(['text'])
  type!: 'text';

  @ApiProperty({
    description: 'The text, 1 to 4096 characters (code points); NUL and unpaired surrogates are refused.',
    example: 'Pesanan Anda sudah dikirim.',
  })
  @StoredText({ min: 1, max: MAX_TEXT_LENGTH })
  text!: string;
}
