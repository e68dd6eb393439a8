import { Controller, Get, Header, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { bearerToken } from '../auth/request-authenticator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { EventFeedQueryDto } from './event-feed-query.dto';
import { EventFeedService, filterOf } from './event-feed.service';
import { EventStreamQueryDto } from './event-stream-query.dto';
import { EventStreamService, MAX_STREAMS_PER_CREDENTIAL } from './event-stream.service';
import { EventPageDto } from './event.dto';

const STREAM_EXAMPLE =
  'id: WyJldiIsNDgxNywxMjBd.oQSkKPbnxo5B\n' +
  'event: message.created\n' +
  'data: {"id":"evt_01JDQ7Z3K8Q2V5N9T4W6X0Y1B2","type":"message.created","createdAt":1732400000123,' +
  '"sessionId":"01HF7Z3K8Q2V5N9T4W6X0Y1B2C","history":false,"data":{"id":"3EB0C1A2B3C4D5E6",' +
  '"chatId":"6281234567890@s.whatsapp.net","fromMe":false,"senderId":"6281234567890@s.whatsapp.net",' +
  '"timestamp":1732400000000,"type":"text","text":"halo","status":null}}\n\n' +
  ': keep-alive\n\n';

/** An abort signal that fires when the client goes away before its answer is written. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

@ApiTags('events')
@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly feed: EventFeedService,
    private readonly streams: EventStreamService,
  ) {}

  @Get()
  @RequireCapability('read')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({
    operationId: 'listEvents',
    summary: 'Read the event feed',
    description:
      'The organization\'s events in commit order, oldest first. Send `nextCursor` back as `after` to continue: a reader ' +
      'that always does receives every event exactly once, none skipped, also while many transactions commit at once on ' +
      'several replicas (an event becomes visible only once every event before it in that order is). `nextCursor` is ' +
      'never null; when nothing new came it is the same position. Filters (`types`, `sessionId`) move the position ' +
      'past the events they skip. With `wait`, an empty page is held until an event comes or `wait` seconds pass. ' +
      'Events are kept `EVENT_RETENTION_HOURS` (default 168): a cursor older than that answers 410.',
  })
  @ApiOkResponse({ type: EventPageDto })
  @ApiErrorResponses(410, 422)
  list(@Caller() caller: Caller, @Query() query: EventFeedQueryDto, @Res({ passthrough: true }) res: Response): Promise<string> {
    return this.feed.page(caller.orgId, query, clientGone(res));
  }

  @Get('stream')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Stream events as they happen (Server-Sent Events)',
    description:
      '`text/event-stream`: each event as `id: <cursor>`, `event: <type>`, `data: <event JSON>` (the same bytes the feed ' +
      'serves), and a `: keep-alive` comment every 15 s. It resumes after the `Last-Event-ID` header or the `after` ' +
      'query (a feed `nextCursor` or an event\'s `id`); with neither it starts with the events committed from now on. ' +
      'An event reaches every open stream within about a second of its commit. The stream closes when its API key is ' +
      `revoked (within 5 s) or its login token expires. At most ${MAX_STREAMS_PER_CREDENTIAL} streams may be open per ` +
      'credential on each replica: one more answers 429 `rate_limited`. Browsers read it with `fetch` (the credential is the usual `Authorization` header).',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The `id` of the last event received: the stream resumes after it (wins over `after`).',
  })
  @ApiOkResponse({
    description: 'The stream; it stays open.',
    content: { 'text/event-stream': { schema: { type: 'string' }, example: STREAM_EXAMPLE } },
  })
  @ApiErrorResponses(410, 422)
  stream(
    @Caller() caller: Caller,
    @Query() query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    return this.streams.open({
      caller,
      // The guard has authenticated this very header.
      token: bearerToken(req.headers.authorization)!,
      after: query.after,
      lastEventId,
      filter: filterOf(query),
      res,
    });
  }
}
