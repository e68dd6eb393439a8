import { ApiProperty } from '@nestjs/swagger';

/** A person of the session's stored copy (API.md §10). */
export class ContactDto {
  /**
   * The contact's JID: the phone-number JID when the number is known, else the LID.
   * @example "6281234567890@s.whatsapp.net"
   */
  id!: string;

  @ApiProperty({ type: 'string', nullable: true, pattern: '^[0-9]{1,20}$', description: 'Digits of the number; null while only the LID is known.', example: '6281234567890' })
  phoneNumber!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The privacy id (`…@lid`) WhatsApp also addresses this person by, when known.', example: '123456789012345@lid' })
  lid!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: "The name saved in the phone's address book.", example: 'Budi Santoso' })
  name!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The name the person set on WhatsApp.', example: 'Budi' })
  pushName!: string | null;

  /** Whether it is a WhatsApp Business account. @example false */
  isBusiness!: boolean;
}

export class ContactPageDto {
  data!: ContactDto[];

  /** Pass as `cursor` for the next page; null when there are no more contacts. */
  nextCursor!: string | null;
}

/** A contact as stored. */
export interface ContactRow {
  jid: string;
  phone_number: string | null;
  lid: string | null;
  name: string | null;
  push_name: string | null;
  is_business: boolean;
}

export function toContactDto(row: ContactRow): ContactDto {
  return {
    id: row.jid,
    phoneNumber: row.phone_number,
    lid: row.lid,
    name: row.name,
    pushName: row.push_name,
    isBusiness: row.is_business,
  };
}

export class ProfilePictureDto {
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'The current URL of the full-size profile picture on WhatsApp\'s servers (it expires); null when there is none or it is hidden from this number.',
    example: 'https://pps.whatsapp.net/v/t61.24694-24/123_456_n.jpg?oh=abc&oe=678',
  })
  url!: string | null;
}
