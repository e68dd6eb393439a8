import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min, ValidateIf } from 'class-validator';

/** Optional, but `null` is a wrong type, not an absent field. */
const IfPresent = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** A partial update: only the fields sent change. */
export class UpdateChatDto {
  /**
   * Archive (`true`) or unarchive (`false`) the chat.
   * @example true
   */
  @IfPresent()
  @IsBoolean()
  archived?: boolean;

  /**
   * Pin (`true`) or unpin (`false`) the chat.
   * @example false
   */
  @IfPresent()
  @IsBoolean()
  pinned?: boolean;

  @ApiProperty({
    required: false,
    type: 'integer',
    format: 'int64',
    description: 'Mute until this instant (epoch ms); -1 mutes with no end.',
    example: 1732486400000,
  })
  @IfPresent()
  @IsInt()
  @Min(-1)
  @Max(Number.MAX_SAFE_INTEGER)
  mutedUntil?: number;

  /**
   * `true` clears any mute, and wins over `mutedUntil` in the same request.
   * @example false
   */
  @IfPresent()
  @IsBoolean()
  unmute?: boolean;
}
