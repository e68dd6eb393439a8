import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf, ValidateNested } from 'class-validator';
import { StoredText } from '../common/validation/stored-text';
import { MEDIA_MESSAGE_TYPES, MIMETYPE_PATTERN } from '../domain/media';

export const MAX_TEXT_LENGTH = 4096;
export const MAX_FILE_NAME_LENGTH = 255;
export const SENDABLE_TYPES = ['text', ...MEDIA_MESSAGE_TYPES] as const;
export type SendableType = (typeof SENDABLE_TYPES)[number];

/** Where the file of a media message comes from: exactly one of `url` and `data`. */
export class SendMediaDto {
  @ApiProperty({
    required: false,
    maxLength: 2048,
    description:
      'An `http(s)` URL the gateway fetches the file from before answering: public addresses only (unless ' +
      '`MEDIA_ALLOW_PRIVATE_URLS`), at most 3 redirects, 30 s.',
    example: 'https://cdn.example.com/p/123.jpg',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiProperty({
    required: false,
    description: 'The file itself as base64 (standard alphabet); the whole JSON body may be up to 96 MiB.',
    example: 'JVBERi0xLjQKJcfsj6IK',
  })
  @IsOptional()
  @IsString()
  data?: string;

  @ApiProperty({
    required: false,
    maxLength: 255,
    pattern: MIMETYPE_PATTERN.source,
    description:
      'For documents: the type to label the file with when its bytes do not tell (an Office file, a CSV). Other types ' +
      'are labelled with the type sniffed from their bytes.',
    example: 'application/pdf',
  })
  @IsOptional()
  @MaxLength(255)
  @Matches(MIMETYPE_PATTERN, { message: 'must be a MIME type such as application/pdf' })
  mimetype?: string;

  @ApiProperty({ required: false, description: 'The file name the recipient sees (documents).', example: 'invoice.pdf' })
  @IsOptional()
  @StoredText({ min: 1, max: MAX_FILE_NAME_LENGTH })
  fileName?: string;
}

/** A message to send: a text, or a file with an optional caption. */
export class SendMessageDto {
  @ApiProperty({ enum: SENDABLE_TYPES, example: 'text' })
  @IsIn(SENDABLE_TYPES)
  type!: SendableType;

  @ApiProperty({
    required: false,
    description:
      'The text (required for `text`), or the caption of an image, video or document; 1 to 4096 characters (code ' +
      'points); NUL and unpaired surrogates are refused.',
    example: 'Pesanan Anda sudah dikirim.',
  })
  @ValidateIf((body: SendMessageDto) => body.type === 'text' || body.text !== undefined)
  @StoredText({ min: 1, max: MAX_TEXT_LENGTH })
  text?: string;

  @ApiProperty({ type: SendMediaDto, required: false, description: 'The file, for every type but `text`.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SendMediaDto)
  media?: SendMediaDto;

  @ApiProperty({ required: false, description: 'Send an `audio` file (Opus in Ogg) as a voice note.', example: false })
  @IsOptional()
  @IsBoolean()
  voiceNote?: boolean;
}
