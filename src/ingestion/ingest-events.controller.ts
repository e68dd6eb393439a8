import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { IngestionService } from './ingestion.service';
import { IngestResultDto } from './ingest-events.dto';
import { ingestionBatchSchema } from './ingestion-event.schema';

const EXAMPLE_BATCH = {
  events: [
    { type: 'session.status', status: 'connected', phoneNumber: '6281234567890' },
    {
      type: 'chat.upsert',
      chat: { id: '120363025246125888@g.us', name: 'Tim Gudang', archived: false, pinned: true, mutedUntil: null, unreadCount: 1 },
    },
    {
      type: 'message.upsert',
      message: {
        id: '3EB0C1A2B3C4D5E6',
        chatId: '120363025246125888@g.us',
        fromMe: false,
        senderId: '6281234567890@s.whatsapp.net',
        timestamp: 1732400000000,
        type: 'text',
        text: 'halo',
        status: null,
      },
    },
    { type: 'message.status', chatId: '120363025246125888@g.us', messageId: '3EB0C1A2B3C4D5E6', status: 'read' },
    { type: 'chat.delete', chatId: '6281234567890@s.whatsapp.net' },
  ],
};

@ApiTags('ingestion')
@Controller('api/v1/sessions/:sid/events')
export class IngestEventsController {
  constructor(private readonly ingestion: IngestionService) {}

  @Post()
  @HttpCode(200)
  @RequireCapability('ingest')
  @ApiSessionIdParam()
  @ApiOperation({
    operationId: 'ingestSessionEvents',
    summary: 'Push WhatsApp events into a session\'s stored copy',
    description:
      'For the connector service of `external` sessions. 1 to 1000 events (body up to 8 MiB), validated whole before ' +
      'anything is written: one invalid event answers 422 with its `index` in `details` and changes nothing. The batch ' +
      'is applied in order in one transaction and the answer is sent after it is committed. Idempotent: a message is ' +
      'identified by (session, `chatId`, `id`), and replaying a batch changes nothing. A `message.upsert` for a chat ' +
      'that is not stored creates it; a chat created this way or by `chat.upsert` gets defaults for what was not sent. ' +
      'Chat ids are `<digits>@s.whatsapp.net`, `<digits>@g.us` or `<digits>@lid`; status broadcasts and newsletters ' +
      'are not chats and are refused. Only for sessions whose provider is `external`: a push into another ' +
      'session answers 409, since its stored status would disagree with the connection the gateway holds.',
  })
  @ApiBody({ schema: ingestionBatchSchema(), examples: { batch: { summary: 'One event of each type', value: EXAMPLE_BATCH } } })
  @ApiOkResponse({ type: IngestResultDto, description: 'The batch is committed.' })
  @ApiErrorResponses(404, 409, 413, 422)
  ingest(@Caller() caller: Caller, @Param('sid') sid: string, @Body() body: unknown): Promise<IngestResultDto> {
    return this.ingestion.ingestPushed(caller.orgId, sid, body);
  }
}
