import { ApiProperty } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode } from './app-error';

export class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'not_found' })
  code!: ErrorCode;

  @ApiProperty({ example: 'session not found' })
  message!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Always an object. `fields` for validation errors, `errorId` for internal errors.',
    example: {},
  })
  details!: Record<string, unknown>;
}

/** The one body of every non-2xx response. */
export class ErrorEnvelopeDto {
  @ApiProperty({ type: ErrorBodyDto })
  error!: ErrorBodyDto;
}
