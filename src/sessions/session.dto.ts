import { ApiProperty } from '@nestjs/swagger';
import { ProviderName } from '../config/app-config';
import { PROVIDER_NAMES } from '../whatsapp/providers/provider-registry';
import { SESSION_STATUSES, SessionStatus } from '../domain/gateway-events';
import { SessionEntity } from './session.entity';

/** One attached WhatsApp number. */
export class SessionDto {
  /**
   * ULID, canonical upper case.
   * @example "01HF7Z3K8Q2V5N9T4W6X0Y1B2C"
   */
  id!: string;

  /** @example "Customer service" */
  name!: string;

  @ApiProperty({ enum: SESSION_STATUSES, example: 'connected' })
  status!: SessionStatus;

  /**
   * Digits of the attached number, once known.
   * @example "6281234567890"
   */
  phoneNumber!: string | null;

  @ApiProperty({ enum: PROVIDER_NAMES, description: 'How the number is connected.', example: 'external' })
  provider!: ProviderName;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.', example: 1732400000000 })
  createdAt!: number;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    description: 'Epoch ms of the last change (status, number).',
    example: 1732400000000,
  })
  updatedAt!: number;
}

export class SessionPageDto {
  data!: SessionDto[];

  /** Pass as `cursor` for the next page; null when there are no more sessions. */
  nextCursor!: string | null;
}

export function toSessionDto(session: SessionEntity): SessionDto {
  return {
    id: session.id,
    name: session.name,
    status: session.status,
    phoneNumber: session.phoneNumber,
    provider: session.provider,
    createdAt: session.createdAt.getTime(),
    updatedAt: session.updatedAt.getTime(),
  };
}
