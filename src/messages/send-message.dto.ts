import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { StoredText } from '../common/validation/stored-text';
import { MEDIA_MESSAGE_TYPES, MIMETYPE_PATTERN } from '../domain/media';
import { MESSAGE_ID_PATTERN } from '../domain/message-id';

export const MAX_TEXT_LENGTH = 4096;
export const MAX_FILE_NAME_LENGTH = 255;
export const SENDABLE_TYPES = ['text', ...MEDIA_MESSAGE_TYPES, 'location', 'contact'] as const;
export type SendableType = (typeof SENDABLE_TYPES)[number];
export const MAX_CONTACT_CARDS = 10;
/** A card's number: digits with the country code, as WhatsApp numbers are written. */
export const CARD_PHONE_NUMBER = /^[0-9]{5,20}$/;
const FINITE = { allowNaN: false, allowInfinity: false };

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

/** A place to share. */
export class SendLocationDto {
  @ApiProperty({ type: 'number', minimum: -90, maximum: 90, description: 'Degrees north (negative: south).', example: -6.2088 })
  @IsNumber(FINITE)
  @Min(-90)
  @Max(90)
  latitude!: number;

  @ApiProperty({ type: 'number', minimum: -180, maximum: 180, description: 'Degrees east (negative: west).', example: 106.8456 })
  @IsNumber(FINITE)
  @Min(-180)
  @Max(180)
  longitude!: number;

  @ApiProperty({ required: false, description: 'The place\'s name, 1 to 256 characters.', example: 'Monas' })
  @IsOptional()
  @StoredText({ min: 1, max: 256 })
  name?: string;

  @ApiProperty({ required: false, description: 'Its address, 1 to 1024 characters.', example: 'Gambir, Jakarta Pusat' })
  @IsOptional()
  @StoredText({ min: 1, max: 1024 })
  address?: string;
}

/** A contact card to share; it is sent as a vCard. */
export class SendContactDto {
  @ApiProperty({ description: 'The name on the card, 1 to 256 characters.', example: 'Budi Santoso' })
  @StoredText({ min: 1, max: 256 })
  name!: string;

  @ApiProperty({
    description: 'The number on the card: 5 to 20 digits with the country code, no `+`.',
    pattern: CARD_PHONE_NUMBER.source,
    example: '6281234567890',
  })
  @IsString()
  @Matches(CARD_PHONE_NUMBER, { message: 'phoneNumber must be 5 to 20 digits' })
  phoneNumber!: string;
}

/** A message to send: a text, a file with an optional caption, a place or contact cards, optionally replying to a stored message. */
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

  @ApiProperty({
    required: false,
    pattern: MESSAGE_ID_PATTERN.source,
    description: 'The id of a stored message of this chat to quote: the message is sent as a reply to it. Unknown → 422.',
    example: '3EB0C1A2B3C4D5E6',
  })
  @ValidateIf((_body: SendMessageDto, value: unknown) => value !== undefined)
  @IsString()
  @Matches(MESSAGE_ID_PATTERN, { message: 'replyTo must be the id of a stored message of this chat' })
  replyTo?: string;

  @ApiProperty({ type: SendLocationDto, required: false, description: 'The place, for (and only for) `location`.' })
  @ValidateIf((body: SendMessageDto) => body.type === 'location' || body.location !== undefined)
  @IsDefined({ message: 'location is required for a location message' })
  @ValidateNested()
  @Type(() => SendLocationDto)
  location?: SendLocationDto;

  @ApiProperty({
    type: [SendContactDto],
    required: false,
    minItems: 1,
    maxItems: MAX_CONTACT_CARDS,
    description: 'The cards, 1 to 10, for (and only for) `contact`.',
  })
  @ValidateIf((body: SendMessageDto) => body.type === 'contact' || body.contacts !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CONTACT_CARDS)
  @ValidateNested({ each: true })
  @Type(() => SendContactDto)
  contacts?: SendContactDto[];
}
