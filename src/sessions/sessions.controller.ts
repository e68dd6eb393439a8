import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query, Req, StreamableFile } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Request } from 'express';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { CreateSessionDto } from './create-session.dto';
import { PairingCodeDto, RequestPairingCodeDto, SessionQrDto } from './pairing.dto';
import { renderQrPng } from './qr-png';
import { ApiSessionIdParam } from './session-id-param.decorator';
import { SessionDto, SessionPageDto } from './session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ApiExtraModels(SessionQrDto)
@Controller('api/v1/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'createSession',
    summary: 'Attach a WhatsApp number',
    description:
      'Creates a session for the caller\'s organization with the provider `WA_PROVIDER` names, and asks the ' +
      'provider to connect it. Its `status` then follows what the provider reports.',
  })
  @ApiCreatedResponse({ type: SessionDto })
  @ApiErrorResponses(422)
  create(@Caller() caller: Caller, @Body() body: CreateSessionDto): Promise<SessionDto> {
    return this.sessions.create(caller.orgId, body);
  }

  @Get()
  @RequireCapability('read')
  @ApiOperation({ operationId: 'listSessions', summary: 'List sessions, newest first' })
  @ApiOkResponse({ type: SessionPageDto })
  @ApiErrorResponses(422)
  list(@Caller() caller: Caller, @Query() query: PageQueryDto): Promise<SessionPageDto> {
    return this.sessions.list(caller.orgId, query.limit!, query.cursor);
  }

  @Get(':sid')
  @RequireCapability('read')
  @ApiSessionIdParam()
  @ApiOperation({ operationId: 'getSession', summary: 'Get a session' })
  @ApiOkResponse({ type: SessionDto })
  @ApiErrorResponses(404)
  get(@Caller() caller: Caller, @Param('sid') sid: string): Promise<SessionDto> {
    return this.sessions.get(caller.orgId, sid);
  }

  @Delete(':sid')
  @HttpCode(204)
  @RequireCapability('manage')
  @ApiSessionIdParam()
  @ApiOperation({
    operationId: 'deleteSession',
    summary: 'Detach a number and delete its stored copy',
    description:
      'Logs the number out (best effort, at most 5 s; the answer is 204 regardless), then deletes the session ' +
      'with all its stored chats and messages.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponses(404)
  delete(@Caller() caller: Caller, @Param('sid') sid: string): Promise<void> {
    return this.sessions.delete(caller.orgId, sid);
  }

  @Get(':sid/qr')
  @RequireCapability('manage')
  @Header('Cache-Control', 'no-store')
  @ApiSessionIdParam()
  @ApiOperation({
    operationId: 'getSessionQr',
    summary: 'Get the pairing QR',
    description:
      'While the session is `pairing`, the QR to scan in WhatsApp (Linked devices → Link a device) and when it stops ' +
      'working; with `Accept: image/png`, the QR itself as a PNG. A QR lives 60 s (20 s for each after the first); ' +
      'ask again for the current one. Otherwise (connecting, connected, logged out, or an `external` session, which ' +
      'its connector pairs) 409, with the session\'s `status` in `details`.',
  })
  @ApiOkResponse({
    description: 'The current QR.',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(SessionQrDto) } },
      'image/png': { schema: { type: 'string', format: 'binary' } },
    },
  })
  @ApiErrorResponses(404)
  @ApiErrorExamples('conflict', 'the session is not pairing', {
    notPairing: { summary: 'The session is not pairing', message: 'the session is not pairing', details: { status: 'connected' } },
  })
  async qr(@Caller() caller: Caller, @Param('sid') sid: string, @Req() req: Request): Promise<SessionQrDto | StreamableFile> {
    const qr = await this.sessions.currentQr(caller.orgId, sid);
    if (req.accepts(['application/json', 'image/png']) !== 'image/png') return qr;
    return new StreamableFile(await renderQrPng(qr.qr), { type: 'image/png' });
  }

  @Post(':sid/pairing-code')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiSessionIdParam()
  @ApiOperation({
    operationId: 'requestPairingCode',
    summary: 'Pair with a code instead of a QR',
    description:
      'While the session is `pairing`, asks WhatsApp for an 8-character code for `phoneNumber`; enter it on that ' +
      'phone (Linked devices → Link a device → Link with phone number instead). A code not entered before the ' +
      'connection drops is forgotten; ask again. 409 when the session is not pairing (and always for an `external` ' +
      'session, which its connector pairs); 503 when WhatsApp does not answer, when no replica holds the session ' +
      'right now, or when the replica holding it does not answer within 10 s.',
  })
  @ApiOkResponse({ type: PairingCodeDto })
  @ApiErrorResponses(404, 422)
  @ApiErrorExamples('conflict', 'the session is not pairing', {
    notPairing: { summary: 'The session is not pairing', message: 'session is not waiting to be paired' },
  })
  requestPairingCode(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Body() body: RequestPairingCodeDto,
  ): Promise<PairingCodeDto> {
    return this.sessions.requestPairingCode(caller.orgId, sid, body.phoneNumber);
  }
}
