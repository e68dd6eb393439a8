import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { ApiChatIdParam } from './chat-id-param.decorator';
import { ChatDto, ChatPageDto } from './chat.dto';
import { ChatsService } from './chats.service';
import { ListChatsQueryDto } from './list-chats-query.dto';
import { UpdateChatDto } from './update-chat.dto';

const NOT_FOUND = 'The session does not exist, is not the caller\'s organization\'s, or no chat with that `cid` is stored.';

@ApiTags('chats')
@Controller('api/v1/sessions/:sid/chats')
@ApiSessionIdParam()
export class ChatsController {
  constructor(private readonly chats: ChatsService) {}

  @Get()
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'listChats',
    summary: 'List chats',
    description:
      'The gateway\'s stored copy of the session\'s chats, most recent activity first (`lastMessageAt` descending, chats ' +
      'without messages last), ties broken by id descending. A chat whose activity changes between two pages may move.',
  })
  @ApiOkResponse({ type: ChatPageDto })
  @ApiErrorResponses(404, 422)
  list(@Caller() caller: Caller, @Param('sid') sid: string, @Query() query: ListChatsQueryDto): Promise<ChatPageDto> {
    return this.chats.list(caller.orgId, sid, { ...query, limit: query.limit! });
  }

  @Get(':cid')
  @RequireCapability('read')
  @ApiChatIdParam()
  @ApiOperation({ operationId: 'getChat', summary: 'Get a chat', description: `404 when: ${NOT_FOUND}` })
  @ApiOkResponse({ type: ChatDto })
  @ApiErrorResponses(404)
  get(@Caller() caller: Caller, @Param('sid') sid: string, @Param('cid') cid: string): Promise<ChatDto> {
    return this.chats.get(caller.orgId, sid, cid);
  }

  @Patch(':cid')
  @RequireCapability('send')
  @ApiChatIdParam()
  @ApiOperation({
    operationId: 'updateChat',
    summary: 'Update a chat (archive/pin/mute)',
    description:
      'Partial update: only the fields sent change; an empty object changes nothing. `unmute: true` clears any mute and ' +
      'wins over `mutedUntil`. Unknown fields, wrong types (`"true"`, `null`, a float for `mutedUntil`) and a body that ' +
      'is not a JSON object answer 422. When the session\'s provider can, the change is also applied on WhatsApp; the ' +
      `stored copy is updated in any case. 404 when: ${NOT_FOUND}`,
  })
  @ApiOkResponse({ type: ChatDto, description: 'The updated chat.' })
  @ApiErrorResponses(404, 422)
  update(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Body() body: UpdateChatDto,
  ): Promise<ChatDto> {
    return this.chats.update(caller.orgId, sid, cid, body);
  }

  @Delete(':cid')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiChatIdParam()
  @ApiOperation({
    operationId: 'deleteChat',
    summary: 'Delete a chat from the stored copy',
    description:
      'A local delete only: removes the chat and all its stored messages from the gateway\'s copy and does not touch ' +
      'WhatsApp. Later activity for the JID creates the chat again, with only the new messages. ' +
      `404 when: ${NOT_FOUND}`,
  })
  @ApiNoContentResponse({ description: 'Deleted; no body.' })
  @ApiErrorResponses(404)
  delete(@Caller() caller: Caller, @Param('sid') sid: string, @Param('cid') cid: string): Promise<void> {
    return this.chats.delete(caller.orgId, sid, cid);
  }
}
