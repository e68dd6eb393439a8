import { ApiProperty } from '@nestjs/swagger';
import { CAPABILITIES, Capability } from '../capability';
import { ApiKeyEntity } from './api-key.entity';

/** An API key as listed: everything but the secret, which is never stored nor shown again. */
export class ApiKeyDto {
  /**
   * ULID of the key.
   * @example "01HF7Z3K8Q2V5N9T4W6X0Y1B2C"
   */
  id!: string;

  /** @example "nightly export" */
  name!: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...CAPABILITIES] }, example: ['read', 'send'] })
  capabilities!: Capability[];

  /**
   * The first characters of the key, to tell keys apart.
   * @example "wgw_BPf_pQRy"
   */
  prefix!: string;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.', example: 1732400000000 })
  createdAt!: number;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    description: 'Epoch ms of the last request made with the key (recorded within about 10 s); null when never used.',
    example: 1732486400000,
  })
  lastUsedAt!: number | null;
}

/** A key just created: the only answer that ever carries the key itself. */
export class CreatedApiKeyDto {
  /** @example "01HF7Z3K8Q2V5N9T4W6X0Y1B2C" */
  id!: string;

  /** @example "nightly export" */
  name!: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...CAPABILITIES] }, example: ['read', 'send'] })
  capabilities!: Capability[];

  /** @example "wgw_BPf_pQRy" */
  prefix!: string;

  /**
   * The key, to send as `Authorization: Bearer <key>`. Shown only in this answer: store it now.
   * @example "wgw_BPf_pQRyW8TWCucb0OnxvgBYjiQuc-xJhSKSeN"
   */
  key!: string;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.', example: 1732400000000 })
  createdAt!: number;
}

export class ApiKeyPageDto {
  data!: ApiKeyDto[];

  /** Pass as `cursor` for the next page; null when there are no more keys. */
  nextCursor!: string | null;
}

export function toApiKeyDto(key: ApiKeyEntity): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    capabilities: key.capabilities,
    prefix: key.prefix,
    createdAt: key.createdAt.getTime(),
    lastUsedAt: key.lastUsedAt ? key.lastUsedAt.getTime() : null,
  };
}
