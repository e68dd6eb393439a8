import { Body, Controller, Delete, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiChatIdParam } from '../chats/chat-id-param.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { MessageDto } from '../messages/message.dto';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { EditMessageDto, SetPresenceDto, SetReactionDto } from './conversation-actions.dto';
import { ConversationsService } from './conversations.service';

const NOT_FOUND =
  'The session does not exist or is not the caller\'s organization\'s (`session not found`), no chat with that `cid` is ' +
  'stored (`chat not found`)';
const MESSAGE_NOT_FOUND = `${NOT_FOUND}, or the chat has no such message (\`message not found\`).`;
const CHAT_NOT_FOUND = `${NOT_FOUND}.`;

const ACTS =
  'The stored copy and the event log change at once, exactly as when WhatsApp reports the same action; the action ' +
  'reaches WhatsApp through the session\'s provider right after (`baileys`: the replica holding the connection; ' +
  '`external`: POSTed to `WA_EXTERNAL_SEND_URL` as `{"sessionId", "chatId", "action": {"type", …}}`, a 2xx within 5 s ' +
  'being success). If WhatsApp refuses it, the refusal is logged and the stored copy keeps the change.';

const CANNOT_ACT = {
  notConnected: { summary: 'A baileys session that is not connected', message: 'the session cannot send: it is not connected' },
  noConnector: {
    summary: 'An external session without WA_EXTERNAL_SEND_URL',
    message: 'the session cannot send: no connector is configured for external sessions',
  },
};

const MessageIdParam = (): MethodDecorator =>
  ApiParam({ name: 'mid', description: 'The message id.', example: '3EB0C1A2B3C4D5E6' });

/** What a person does in a chat besides sending (API.md §9). */
@ApiSessionIdParam()
@ApiChatIdParam()
@Controller('api/v1/sessions/:sid/chats/:cid')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Put('messages/:mid/reaction')
  @ApiTags('messages')
  @RequireCapability('send')
  @MessageIdParam()
  @ApiOperation({
    operationId: 'setMessageReaction',
    summary: 'React to a message, or remove the reaction',
    description:
      'Sets this number\'s reaction to the message to `emoji` (one emoji), replacing its previous one, or removes it ' +
      'with `""`. The answer is the message with its `reactions`. A revoked message cannot be reacted to (422). ' +
      `${ACTS} 409 when the session cannot send now, or its own number is not known yet. 404 when: ${MESSAGE_NOT_FOUND}`,
  })
  @ApiOkResponse({ type: MessageDto, description: 'The message, with this number\'s reaction set or removed.' })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'the session cannot act now; nothing changes', {
    ...CANNOT_ACT,
    noNumber: { summary: 'A session whose number is not known yet', message: 'the session cannot act: its own number is not known yet' },
  })
  @ApiErrorExamples('validation_error', 'not one emoji, or a revoked message; nothing changes', {
    twoEmoji: {
      summary: 'Two emoji',
      message: 'request validation failed',
      details: { fields: { emoji: ['must be exactly one emoji, or "" to remove the reaction'] } },
    },
    revoked: { summary: 'A revoked message', message: 'request validation failed', details: { fields: { mid: ['must not be revoked'] } } },
  })
  react(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Param('mid') mid: string,
    @Body() body: SetReactionDto,
  ): Promise<MessageDto> {
    return this.conversations.react(caller.orgId, sid, cid, mid, body.emoji);
  }

  @Patch('messages/:mid')
  @ApiTags('messages')
  @RequireCapability('send')
  @MessageIdParam()
  @ApiOperation({
    operationId: 'editMessage',
    summary: 'Edit a text sent from this number',
    description:
      'Replaces the text of a `text` message sent from this number (`fromMe`) that is not revoked (else 422); the ' +
      'message reads `edited: true`. WhatsApp allows edits for 15 minutes after the message\'s `timestamp`: later, 409. ' +
      `${ACTS} 409 also when the session cannot send now. 404 when: ${MESSAGE_NOT_FOUND}`,
  })
  @ApiOkResponse({ type: MessageDto, description: 'The message with its new text, `edited: true`.' })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'too late to edit, or the session cannot act now; nothing changes', {
    tooLate: { summary: 'Sent more than 15 minutes ago', message: 'a message can only be edited within 15 minutes of its timestamp' },
    ...CANNOT_ACT,
  })
  @ApiErrorExamples('validation_error', 'a bad text, or a message that cannot be edited; nothing changes', {
    notOwn: {
      summary: 'A message someone else sent',
      message: 'request validation failed',
      details: { fields: { mid: ['must be a text message sent from this number, not revoked'] } },
    },
    text: { summary: 'An empty text', message: 'request validation failed', details: { fields: { text: ['must be 1..4096 characters'] } } },
  })
  edit(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Param('mid') mid: string,
    @Body() body: EditMessageDto,
  ): Promise<MessageDto> {
    return this.conversations.edit(caller.orgId, sid, cid, mid, body.text);
  }

  @Post('messages/:mid/revoke')
  @HttpCode(200)
  @ApiTags('messages')
  @RequireCapability('send')
  @MessageIdParam()
  @ApiOperation({
    operationId: 'revokeMessage',
    summary: 'Delete a message for everyone',
    description:
      'Deletes the message for everyone on WhatsApp. Messages sent from this number can be revoked, and in groups others\' ' +
      'messages too (WhatsApp refuses unless the number is a group admin); someone else\'s message in a direct chat ' +
      'cannot (422). The message keeps its row, with `revoked: true` and `text: null`; revoking it again changes ' +
      `nothing. ${ACTS} 409 when the session cannot send now. 404 when: ${MESSAGE_NOT_FOUND}`,
  })
  @ApiOkResponse({ type: MessageDto, description: 'The message, `revoked: true`, `text: null`.' })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'the session cannot act now; nothing changes', CANNOT_ACT)
  @ApiErrorExamples('validation_error', 'a message this number cannot revoke; nothing changes', {
    othersDirect: {
      summary: 'Someone else\'s message in a direct chat',
      message: 'request validation failed',
      details: { fields: { mid: ['must be a message sent from this number: in a direct chat only those can be revoked'] } },
    },
  })
  revoke(@Caller() caller: Caller, @Param('sid') sid: string, @Param('cid') cid: string, @Param('mid') mid: string): Promise<MessageDto> {
    return this.conversations.revoke(caller.orgId, sid, cid, mid);
  }

  @Delete('messages/:mid')
  @HttpCode(204)
  @ApiTags('messages')
  @RequireCapability('send')
  @MessageIdParam()
  @ApiOperation({
    operationId: 'deleteMessage',
    summary: 'Delete a message from the stored copy',
    description:
      'A local delete only: removes the message from the gateway\'s copy (event `message.deleted` with `{"id", "chatId"}`; ' +
      'the chat\'s `lastMessageAt` follows its newest remaining message) and does not touch WhatsApp. A later ingested ' +
      `copy of the message stores it again. 404 when: ${MESSAGE_NOT_FOUND}`,
  })
  @ApiNoContentResponse({ description: 'Deleted; no body.' })
  @ApiErrorResponses(404)
  deleteLocal(@Caller() caller: Caller, @Param('sid') sid: string, @Param('cid') cid: string, @Param('mid') mid: string): Promise<void> {
    return this.conversations.deleteLocal(caller.orgId, sid, cid, mid);
  }

  @Post('read')
  @HttpCode(204)
  @ApiTags('chats')
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'markChatRead',
    summary: 'Mark a chat read',
    description:
      'Sets the chat\'s `unreadCount` to 0 (event `chat.updated` when it was not) and sends read receipts for its ' +
      'newest received messages: as many as were unread (at most 100), and at least the newest one. ' +
      `${ACTS} 409 when the session cannot send now. 404 when: ${CHAT_NOT_FOUND}`,
  })
  @ApiNoContentResponse({ description: 'Read; no body.' })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'the session cannot act now; nothing changes', CANNOT_ACT)
  markRead(@Caller() caller: Caller, @Param('sid') sid: string, @Param('cid') cid: string): Promise<void> {
    return this.conversations.markRead(caller.orgId, sid, cid);
  }

  @Post('presence')
  @HttpCode(204)
  @ApiTags('chats')
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'setChatPresence',
    summary: 'Show a typing indicator',
    description:
      'Shows the chat that this number is typing (`composing`) or recording a voice note (`recording`), or stops ' +
      '(`paused`). Nothing is stored. The indicator goes to WhatsApp as the actions of this API do (`external`: ' +
      `\`{"action": {"type": "presence", "state"}}\`). 409 when the session cannot send now. 404 when: ${CHAT_NOT_FOUND}`,
  })
  @ApiNoContentResponse({ description: 'On its way; no body.' })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'the session cannot act now', CANNOT_ACT)
  setPresence(@Caller() caller: Caller, @Param('sid') sid: string, @Param('cid') cid: string, @Body() body: SetPresenceDto): Promise<void> {
    return this.conversations.setPresence(caller.orgId, sid, cid, body.state);
  }
}
