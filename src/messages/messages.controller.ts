import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiChatIdParam } from '../chats/chat-id-param.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { MessageDto, MessagePageDto } from './message.dto';
import { MessagesService } from './messages.service';

const NOT_FOUND = 'The session does not exist, is not the caller\'s organization\'s, or no chat with that `cid` is stored.';

@ApiTags('messages')
@Controller('api/v1/sessions/:sid/chats/:cid/messages')
@ApiSessionIdParam()
@ApiChatIdParam()
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get()
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'listChatMessages',
    summary: 'List chat messages, newest first',
    description:
      'A page of the chat\'s stored messages, ordered by `timestamp` then `id`, both descending. Send the ' +
      '`nextCursor` of a page back as `cursor` for the next (older) page; it is `null` on the last page. Pages ' +
      'never skip or repeat a message, also while new messages are ingested between pages. A tampered or ' +
      `truncated cursor answers 422. 404 when: ${NOT_FOUND}`,
  })
  @ApiOkResponse({ type: MessagePageDto })
  @ApiErrorResponses(404, 422)
  list(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Query() query: PageQueryDto,
  ): Promise<MessagePageDto> {
    return this.messages.list(caller.orgId, sid, cid, query.limit!, query.cursor);
  }

  @Get(':mid')
  @RequireCapability('read')
  @ApiParam({ name: 'mid', description: 'The message id.', example: '3EB0C1A2B3C4D5E6' })
  @ApiOperation({
    operationId: 'getChatMessage',
    summary: 'Get a message',
    description: `404 \`message not found\` when the chat has no such message; otherwise 404 when: ${NOT_FOUND}`,
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiErrorResponses(404)
  get(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Param('mid') mid: string,
  ): Promise<MessageDto> {
    return this.messages.get(caller.orgId, sid, cid, mid);
  }
}
