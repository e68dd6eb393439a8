import { ApiProperty } from '@nestjs/swagger';
import { phoneNumberOfJid } from '../domain/jid';
import { ContactRow } from './contacts.repository';

/** A person of the session's address book or conversations (API.md §10). */
export class ContactDto {
  /**
   * Their phone-number JID, or their `@lid` while WhatsApp hides the number.
   * @example "6281234567890@s.whatsapp.net"
   */
  id!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'Digits of their number; null while hidden behind a LID.', example: '6281234567890' })
  phoneNumber!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'Their privacy id, when WhatsApp revealed it.', example: '123456789012345@lid' })
  lid!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: "As saved in the phone's address book.", example: 'Budi Santoso' })
  name!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'As the person set it.', example: 'Budi' })
  pushName!: string | null;

  /**
   * A WhatsApp Business account.
   * @example false
   */
  isBusiness!: boolean;
}

export function toContactDto(row: ContactRow): ContactDto {
  return {
    id: row.jid,
    phoneNumber: row.phone_number ?? phoneNumberOfJid(row.jid),
    lid: row.lid,
    name: row.name,
    pushName: row.push_name,
    isBusiness: row.is_business,
  };
}
