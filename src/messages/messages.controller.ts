import { Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiChatIdParam } from '../chats/chat-id-param.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { IDEMPOTENCY_HEADER, parseIdempotencyKey } from './idempotency-key';
import { MessageDto, MessagePageDto } from './message.dto';
import { MessageSendService } from './message-send.service';
import { MessagesService } from './messages.service';
import { SendMessageDto } from './send-message.dto';

const REPLAYED_HEADER = 'Idempotent-Replayed';

const NOT_FOUND = 'The session does not exist, is not the caller\'s organization\'s, or no chat with that `cid` is stored.';

@ApiTags('messages')
@Controller('api/v1/sessions/:sid/chats/:cid/messages')
@ApiSessionIdParam()
@ApiChatIdParam()
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly sender: MessageSendService,
  ) {}

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

  @Post()
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    operationId: 'sendChatMessage',
    summary: 'Send a text, a file, a place or contact cards',
    description:
      'A text (`{"type": "text", "text"}`), or a file: `type` `image`, `video`, `audio`, `document` or `sticker` with ' +
      '`media.url` (fetched by the gateway: public addresses only unless `MEDIA_ALLOW_PRIVATE_URLS`, at most 3 redirects, ' +
      '30 s), `media.data` (base64; the JSON body may be up to 96 MiB), or as `multipart/form-data` with a `file` part and ' +
      'the fields `type`, `text`, `fileName`, `voiceNote`. `text` is the caption. The file is received before the answer ' +
      'and checked: its type sniffed from its bytes must fit `type` (an `image` is JPEG, PNG or WebP; a `sticker` WebP; a ' +
      '`video` MP4 or 3GP; an `audio` Ogg/Opus, MP3, AAC, M4A or AMR, and a `voiceNote` Ogg/Opus; a `document` anything), ' +
      'it is at most `MEDIA_MAX_BYTES` (default 64 MiB): otherwise 422 (413 for an upload over the limit), and nothing is ' +
      'stored. The message answers with its `media` `ready`.\n\n' +
      'A place is `{"type": "location", "location": {"latitude", "longitude", "name"?, "address"?}}` (degrees, -90..90 and ' +
      '-180..180); contact cards are `{"type": "contact", "contacts": [{"name", "phoneNumber"}]}` (1 to 10 cards, numbers ' +
      'of 5 to 20 digits), sent as vCards. Any message may quote a stored message of the chat with `"replyTo": "<mid>"` ' +
      '(not stored in the chat: 422). The connector of `external` sessions gets them as `location`, `contacts` and ' +
      '`replyTo` (the quoted id) in `message`.\n\n' +
      'Stores the message as `pending` and answers 202 with it at once; the session\'s provider then makes one ' +
      'attempt to send it, and within 10 s the message reads `sent` or `failed`; receipts later move it on to ' +
      '`delivered`, `read`, `played` (never back). Sending to a chat that is not stored yet creates it. The message ' +
      'id is the one WhatsApp gets, so receipts and the message on the phone carry it. `baileys` sessions send while ' +
      '`connected`; `external` sessions send through the connector at `WA_EXTERNAL_SEND_URL` (POSTed ' +
      '`{"sessionId", "chatId", "message": {"id", "type", "text", "media"?}}` with header `Idempotency-Key: <message id>`, ' +
      '`media` being `{mimetype, size, sha256, fileName, url, voiceNote}` where `url` is this message\'s `GET …/media`; a 2xx ' +
      'within 5 s means `sent`). Otherwise 409, and nothing is stored.\n\n' +
      `**\`${IDEMPOTENCY_HEADER}\`** (optional, 1 to 255 visible ASCII characters), scoped to the organization and the ` +
      'chat: the same key with the same body within 24 h answers the first response again (same status, same ' +
      `message, with \`${REPLAYED_HEADER}: true\`) and sends nothing; the same key with another body answers 422; ` +
      'while the first request with the key is still being handled, 409. 404 when the session does not exist or is ' +
      'not the caller\'s organization\'s, or when `cid` is not a chat JID.',
  })
  @ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: false,
    description: 'Makes a retried send safe: a key answers its first response for 24 h.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7e]{1,255}$', example: 'order-1042-shipped' },
  })
  @ApiBody({
    type: SendMessageDto,
    examples: {
      text: { summary: 'A text', value: { type: 'text', text: 'Pesanan Anda sudah dikirim.' } },
      imageByUrl: { summary: 'An image fetched from a URL, with a caption', value: { type: 'image', media: { url: 'https://cdn.example.com/p/123.jpg' }, text: 'caption' } },
      documentAsData: {
        summary: 'A document sent as base64',
        value: { type: 'document', media: { data: 'JVBERi0xLjQKJcfsj6IK', mimetype: 'application/pdf', fileName: 'invoice.pdf' } },
      },
      voiceNote: { summary: 'A voice note', value: { type: 'audio', media: { url: 'https://cdn.example.com/note.ogg' }, voiceNote: true } },
      reply: { summary: 'A reply quoting a stored message', value: { type: 'text', text: 'Jam 3 sore', replyTo: '3EB0C1A2B3C4D5E6' } },
      location: {
        summary: 'A place',
        value: { type: 'location', location: { latitude: -6.1754, longitude: 106.8272, name: 'Monas', address: 'Gambir, Jakarta Pusat' } },
      },
      contact: { summary: 'A contact card', value: { type: 'contact', contacts: [{ name: 'Budi Santoso', phoneNumber: '6281234567890' }] } },
    },
  })
  @ApiAcceptedResponse({
    type: MessageDto,
    description: 'Stored and on its way; `status` is `pending`.',
    headers: {
      [REPLAYED_HEADER]: {
        description: `\`true\` when this is the first response to the same \`${IDEMPOTENCY_HEADER}\` again; nothing was sent.`,
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'the session cannot send now, or the same key is still being handled; nothing is stored', {
    notConnected: { summary: 'A baileys session that is not connected', message: 'the session cannot send: it is not connected' },
    noConnector: {
      summary: 'An external session without WA_EXTERNAL_SEND_URL',
      message: 'the session cannot send: no connector is configured for external sessions',
    },
    inFlight: { summary: 'The same key, still being handled', message: `a request with this ${IDEMPOTENCY_HEADER} is still being handled` },
  })
  @ApiErrorExamples('validation_error', 'a bad body or key, or a key used before with another body; nothing is stored', {
    body: { summary: 'A text that is too long', message: 'request validation failed', details: { fields: { text: ['must be 1..4096 characters'] } } },
    reused: {
      summary: 'A key used before with another body',
      message: 'request validation failed',
      details: { fields: { [IDEMPOTENCY_HEADER]: ['was already used with another request body'] } },
    },
  })
  async send(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MessageDto> {
    const idempotencyKey = parseIdempotencyKey(key);
    // Behind a proxy (`TRUST_PROXY`), as the caller reached the gateway.
    const origin = `${req.protocol}://${req.get('host')}`;
    const result = req.is('multipart/form-data')
      ? await this.sender.sendUpload(caller.orgId, sid, cid, req, idempotencyKey, origin)
      : await this.sender.sendJson(caller.orgId, sid, cid, req.body, idempotencyKey, origin);
    if (result.replayed) res.setHeader(REPLAYED_HEADER, 'true');
    return result.message;
  }
}
