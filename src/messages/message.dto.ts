import { ApiProperty } from '@nestjs/swagger';
import { MESSAGE_STATUSES, MESSAGE_TYPES, MessageStatus, MessageType } from '../domain/gateway-events';
import { phoneNumberOfJid } from '../domain/jid';
import { visibleReactions } from '../domain/reactions';
import { MEDIA_STATUSES, MediaStatus, MessageMedia } from '../domain/media';
import { MessageRow } from './messages.repository';

/** The file of a media message (API.md §8). */
export class MessageMediaDto {
  /**
   * The file's MIME type.
   * @example "image/jpeg"
   */
  mimetype!: string;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Bytes.', example: 48213 })
  size!: number;

  /**
   * The file name, for documents; null when unknown.
   * @example null
   */
  fileName!: string | null;

  /**
   * Lower-case hex SHA-256 of the bytes; the `ETag` of `GET …/media`.
   * @example "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
   */
  sha256!: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Pixels (images, videos, stickers); null when unknown.', example: 1280 })
  width!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Pixels (images, videos, stickers); null when unknown.', example: 960 })
  height!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Length of audio and video, ms; null when unknown.', example: null })
  durationMs!: number | null;

  /**
   * A voice note (push-to-talk audio).
   * @example false
   */
  voiceNote!: boolean;

  @ApiProperty({
    enum: MEDIA_STATUSES,
    description:
      '`pending`: known, not stored yet; `ready`: stored, `GET …/media` serves it; `failed`: could not be fetched ' +
      '(`GET …/media` says why); `expired`: WhatsApp no longer has it and the phone could not upload it again.',
    example: 'ready',
  })
  status!: MediaStatus;
}

/** A shared place: a `location` message. */
export class MessageLocationDto {
  @ApiProperty({ type: 'number', minimum: -90, maximum: 90, example: -6.2 })
  latitude!: number;

  @ApiProperty({ type: 'number', minimum: -180, maximum: 180, example: 106.816666 })
  longitude!: number;

  /**
   * The place name; null when none.
   * @example "Monas"
   */
  name!: string | null;

  /**
   * The address; null when none.
   * @example "Gambir, Central Jakarta"
   */
  address!: string | null;
}

/** A shared contact card (a vCard on WhatsApp). */
export class MessageContactCardDto {
  /**
   * The name on the card.
   * @example "Budi"
   */
  name!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'Digits of its WhatsApp number; null when the card has none.', example: '6281234567890' })
  phoneNumber!: string | null;
}

/** One person's reaction; a message keeps the latest one per sender. */
export class MessageReactionDto {
  /**
   * Who reacted.
   * @example "6281234567890@s.whatsapp.net"
   */
  senderId!: string;

  /**
   * The emoji.
   * @example "👍"
   */
  emoji!: string;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'When, epoch ms.', example: 1732400005000 })
  timestamp!: number;
}

/** A message of the gateway's stored copy. */
export class MessageDto {
  /**
   * WhatsApp's message id; unique within its chat.
   * @example "3EB0C1A2B3C4D5E6"
   */
  id!: string;

  /**
   * The chat's JID.
   * @example "120363025246125888@g.us"
   */
  chatId!: string;

  /**
   * Sent from the attached number.
   * @example false
   */
  fromMe!: boolean;

  /**
   * Who sent it, when known.
   * @example "6281234567890@s.whatsapp.net"
   */
  senderId!: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'When it was sent, epoch ms.', example: 1732400000000 })
  timestamp!: number;

  @ApiProperty({ enum: MESSAGE_TYPES, example: 'text' })
  type!: MessageType;

  /**
   * The text or caption; null when there is none.
   * @example "halo"
   */
  text!: string | null;

  @ApiProperty({
    // null listed too: in OpenAPI 3.0 a nullable enum only admits null when the enum names it.
    enum: [...MESSAGE_STATUSES, null],
    nullable: true,
    description: 'Delivery status of an outgoing message; null for an incoming one.',
    example: null,
  })
  status!: MessageStatus | null;

  @ApiProperty({
    type: MessageMediaDto,
    nullable: true,
    description: 'The file of an `image`, `video`, `audio`, `document` or `sticker` message; null for other types.',
    example: null,
  })
  media!: MessageMediaDto | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The id of the message of the same chat it quotes; null when it quotes none.', example: null })
  replyTo!: string | null;

  @ApiProperty({
    type: [MessageReactionDto],
    description: 'Reactions, one per sender (the latest), oldest first.',
    example: [{ senderId: '6281234567890@s.whatsapp.net', emoji: '👍', timestamp: 1732400005000 }],
  })
  reactions!: MessageReactionDto[];

  /**
   * Its text was edited after it was sent.
   * @example false
   */
  edited!: boolean;

  /**
   * Deleted for everyone on WhatsApp: the message stays, with `text` null.
   * @example false
   */
  revoked!: boolean;

  @ApiProperty({ type: MessageLocationDto, nullable: true, description: 'The place of a `location` message; null for other types.', example: null })
  location!: MessageLocationDto | null;

  @ApiProperty({ type: [MessageContactCardDto], nullable: true, description: 'The cards of a `contact` message; null for other types.', example: null })
  contacts!: MessageContactCardDto[] | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: "Digits of the sender's number; null while unknown (a `@lid` sender hides it until WhatsApp reveals the mapping).",
    example: '6281234567890',
  })
  senderPhoneNumber!: string | null;
}

export class MessagePageDto {
  data!: MessageDto[];

  /** Pass as `cursor` for the next (older) page; null when there are no more messages. */
  nextCursor!: string | null;
}

export function toMessageDto(row: MessageRow): MessageDto {
  return {
    id: row.id,
    chatId: row.chat_jid,
    fromMe: row.from_me,
    senderId: row.sender_jid,
    timestamp: Number(row.ts),
    type: row.type,
    text: row.text,
    status: row.status,
    media: row.media ? toMediaDto(row.media) : null,
    replyTo: row.reply_to,
    reactions: visibleReactions(row.reactions).map((r) => ({ senderId: r.senderId, emoji: r.emoji, timestamp: Number(r.timestamp) })),
    edited: row.edited,
    revoked: row.revoked,
    location: row.location,
    contacts: row.contacts,
    senderPhoneNumber: row.sender_pn ?? phoneNumberOfJid(row.sender_jid),
  };
}

function toMediaDto(media: MessageMedia): MessageMediaDto {
  return {
    mimetype: media.mimetype,
    size: Number(media.size),
    fileName: media.fileName,
    sha256: media.sha256,
    width: media.width,
    height: media.height,
    durationMs: media.durationMs,
    voiceNote: media.voiceNote,
    status: media.status,
  };
}
