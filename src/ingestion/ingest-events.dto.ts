import { ApiProperty } from '@nestjs/swagger';

// The request body is documented by its JSON schema (ingestion-event.schema.ts), the one that validates it.

export class IngestResultDto {
  @ApiProperty({ type: 'integer', description: 'The number of events in the batch, all applied.', example: 5 })
  accepted!: number;
}
