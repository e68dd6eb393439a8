import { Controller, Get, Headers, HttpCode, Param, Put, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiNoContentResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiChatIdParam } from '../chats/chat-id-param.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { ErrorEnvelopeDto } from '../common/errors/error-envelope.dto';
import { envelope } from '../common/errors/envelope';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { MessageMediaService } from './message-media.service';

const BINARY = { type: 'string', format: 'binary' } as const;
const NOT_FOUND =
  '404 `media not found` when the message has no file, or its file is not stored (`details.status` says why: `pending`, ' +
  '`failed` with `details.reason`, or `expired`); `message not found`, `chat not found` or `session not found` as for the message.';

@ApiTags('media')
@Controller('api/v1/sessions/:sid/chats/:cid/messages/:mid/media')
@ApiSessionIdParam()
@ApiChatIdParam()
@ApiParam({ name: 'mid', description: 'The message id.', example: '3EB0C1A2B3C4D5E6' })
export class MessageMediaController {
  constructor(private readonly media: MessageMediaService) {}

  @Get()
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'getMessageMedia',
    summary: 'Download the file of a media message',
    description:
      'Streams the stored file with its `Content-Type`, `Content-Length`, `ETag` (the quoted sha256) and ' +
      '`Content-Disposition` (`inline`; `attachment` with the file name for documents). A single `Range` of bytes ' +
      'answers 206 (audio and video players seek with it), a range past the end 416; an `If-Range` that is not this ' +
      'ETag gets the whole file; `If-None-Match` with the ETag answers 304; `HEAD` answers the same headers without the bytes. A received file not fetched yet (one over `MEDIA_AUTO_DOWNLOAD_MAX_BYTES`) is fetched on this first ' +
      'request by the replica holding the session, waiting up to 25 s for it (503 `unavailable` when no replica holds ' +
      `the session). ${NOT_FOUND}`,
  })
  @ApiResponse({ status: 200, description: 'The whole file.', content: { '*/*': { schema: BINARY } } })
  @ApiResponse({ status: 206, description: 'The range asked for; `Content-Range` names it.', content: { '*/*': { schema: BINARY } } })
  @ApiResponse({ status: 304, description: 'The caller has this file already (`If-None-Match`).' })
  @ApiErrorResponses(404)
  @ApiResponse({
    status: 416,
    type: ErrorEnvelopeDto,
    description: '`range_not_satisfiable`: the range starts past the end of the file; `Content-Range: bytes */<size>`.',
    example: envelope('range_not_satisfiable', 'range not satisfiable', { size: 48213 }),
  })
  async download(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Param('mid') mid: string,
    @Headers('range') range: string | undefined,
    @Headers('if-range') ifRange: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // Express answers HEAD with this GET route; the headers are all it needs.
    const answer = await this.media.read(caller.orgId, sid, cid, mid, { range, ifRange, ifNoneMatch }, req.method === 'HEAD');
    res.status(answer.status).set(answer.headers);
    if (!answer.body) {
      res.end();
      return;
    }
    // A client that goes away ends the stream; there is nobody left to answer.
    await pipeline(answer.body, res).catch(() => answer.body?.destroy());
  }

  @Put()
  @HttpCode(204)
  @RequireCapability('ingest')
  @ApiOperation({
    operationId: 'putMessageMedia',
    summary: 'Upload the file of a media message',
    description:
      'For connectors: after pushing a `message.upsert` whose `media` announces `mimetype`, `size` and `sha256`, ' +
      'the connector PUTs the bytes here (`Content-Type` = the mimetype; up to `MEDIA_MAX_BYTES`). They are streamed ' +
      'into the store and kept only when their size and sha256 are the announced ones (else 422, nothing stored); ' +
      'the message\'s `media.status` becomes `ready` and a `message.updated` event is recorded. The same bytes again ' +
      `answer 204 and change nothing. ${NOT_FOUND}`,
  })
  @ApiConsumes('*/*')
  @ApiBody({ required: true, description: 'The bytes of the file.', schema: BINARY })
  @ApiNoContentResponse({ description: 'Stored (or stored already).' })
  @ApiErrorResponses(404)
  @ApiErrorExamples('validation_error', 'the bytes do not match the announced file, or the body ended early; nothing is stored', {
    sha256: {
      summary: 'Other bytes than announced',
      message: 'the file does not match the announced media',
      details: { fields: { sha256: ['is 5e88…, the message announced 9f86…'] } },
    },
    size: {
      summary: 'More or fewer bytes than announced',
      message: 'the file does not match the announced media',
      details: { fields: { size: ['is 100 bytes, the message announced 48213'] } },
    },
  })
  async upload(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('cid') cid: string,
    @Param('mid') mid: string,
    @Req() req: Request,
  ): Promise<void> {
    const length = req.headers['content-length'];
    await this.media.upload(caller.orgId, sid, cid, mid, req, length === undefined ? undefined : Number(length));
  }
}
