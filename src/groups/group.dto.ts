import { ApiProperty } from '@nestjs/swagger';
import { GROUP_ROLES, GroupRole } from '../domain/gateway-events';

export class GroupParticipantDto {
  /**
   * The participant's JID as the group lists it: a phone-number JID, or a LID (`…@lid`).
   * @example "6281234567890@s.whatsapp.net"
   */
  id!: string;

  @ApiProperty({
    type: 'string',
    nullable: true,
    pattern: '^[0-9]{1,20}$',
    description: 'Digits of the number; for a LID participant, known once WhatsApp revealed which number it is (else null).',
    example: '6281234567890',
  })
  phoneNumber!: string | null;

  @ApiProperty({ enum: GROUP_ROLES, example: 'admin' })
  role!: GroupRole;
}

/** A WhatsApp group's metadata (API.md §10). */
export class GroupDto {
  /** The group's JID. @example "120363025246125888@g.us" */
  id!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'Toko Budi — pelanggan' })
  subject!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'Promo dan info pengiriman.' })
  description!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The JID of the person who created the group.', example: '6281234567890@s.whatsapp.net' })
  ownerId!: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, description: 'Epoch ms of the group\'s creation.', example: 1732400000000 })
  createdAt!: number | null;

  participants!: GroupParticipantDto[];

  /** Only admins may send messages. @example false */
  announce!: boolean;

  /** Only admins may change the group's settings. @example false */
  restrict!: boolean;
}

export class InviteLinkDto {
  /** @example "https://chat.whatsapp.com/AbCdEfGhIjK1234567890" */
  url!: string;
}

export const PARTICIPANT_RESULTS = ['added', 'removed', 'promoted', 'demoted', 'invited', 'failed'] as const;

export class ParticipantResultDto {
  /** The number as asked. @example "6281234567890" */
  phoneNumber!: string;

  @ApiProperty({
    enum: PARTICIPANT_RESULTS,
    description:
      '`add`: `added`, `invited` (the person\'s privacy settings refuse being added, so an invitation to join was sent ' +
      'to them instead) or `failed`. `remove`, `promote`, `demote`: `removed`, `promoted`, `demoted` or `failed` (the ' +
      'contract\'s `added`/`invited`/`failed` name what `add` does; the other actions say what they did).',
    example: 'added',
  })
  result!: (typeof PARTICIPANT_RESULTS)[number];

  @ApiProperty({ type: 'string', nullable: true, description: 'Why it failed, or why an invitation was sent instead; null when done.', example: null })
  reason!: string | null;
}

export class ParticipantResultListDto {
  /** One entry per number, in the order sent. */
  data!: ParticipantResultDto[];
}
