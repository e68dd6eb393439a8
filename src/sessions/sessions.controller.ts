import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { CreateSessionDto } from './create-session.dto';
import { ApiSessionIdParam } from './session-id-param.decorator';
import { SessionDto, SessionPageDto } from './session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
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
}
