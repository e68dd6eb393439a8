import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { CreateGroupDto } from './create-group.dto';
import { GetGroupQueryDto } from './get-group-query.dto';
import { ApiGroupJidParam } from './group-id';
import { GroupDto, InviteLinkDto, ParticipantResultListDto } from './group.dto';
import { GroupsService } from './groups.service';
import { UpdateParticipantsDto } from './update-participants.dto';

const ASKED =
  'WhatsApp is asked by the replica holding the session (any replica asks an `external` session\'s connector): 409 ' +
  'when the session cannot act now (not connected, no connector configured, or this number may not do it); 503 when ' +
  'no replica holds the session, the holder or WhatsApp does not answer within 10 s, or the connector answers ' +
  'something malformed.';
const NOT_FOUND = '404 `group not found` when the JID is not a group\'s or WhatsApp does not know the group to this number.';

const CONFLICTS = {
  notConnected: { summary: 'The session is not connected', message: 'session is not connected', details: { status: 'connecting' } },
  notAdmin: { summary: 'This number is not an admin of the group', message: 'WhatsApp refused the invite link request: this number is not an admin of the group' },
};

@ApiTags('groups')
@Controller('api/v1/sessions/:sid/groups')
@ApiSessionIdParam()
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get(':jid')
  @RequireCapability('read')
  @ApiGroupJidParam()
  @ApiOperation({
    operationId: 'getGroup',
    summary: 'Get a group',
    description:
      'The group\'s metadata and participants. Served from the gateway\'s cache (kept from WhatsApp\'s group events) when ' +
      'it holds the whole group; otherwise, or with `refresh=true`, asked of WhatsApp and cached. A `@lid` participant ' +
      `carries its \`phoneNumber\` once WhatsApp revealed it. ${NOT_FOUND} ${ASKED}`,
  })
  @ApiOkResponse({ type: GroupDto })
  @ApiErrorResponses(404, 422, 503)
  @ApiErrorExamples('conflict', 'the session cannot act on WhatsApp now', { notConnected: CONFLICTS.notConnected })
  get(@Caller() caller: Caller, @Param('sid') sid: string, @Param('jid') jid: string, @Query() query: GetGroupQueryDto): Promise<GroupDto> {
    return this.groups.get(caller.orgId, sid, jid, query.refresh === true);
  }

  @Post()
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'createGroup',
    summary: 'Create a group',
    description: `Creates a WhatsApp group with this number as its super admin and the given first participants; the group is cached. ${ASKED}`,
  })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiErrorResponses(404, 422, 503)
  @ApiErrorExamples('conflict', 'the session cannot act on WhatsApp now', { notConnected: CONFLICTS.notConnected })
  create(@Caller() caller: Caller, @Param('sid') sid: string, @Body() body: CreateGroupDto): Promise<GroupDto> {
    return this.groups.create(caller.orgId, sid, body);
  }

  @Post(':jid/participants')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiGroupJidParam()
  @ApiOperation({
    operationId: 'updateGroupParticipants',
    summary: 'Add, remove, promote or demote participants',
    description:
      'Exactly one of `add`, `remove`, `promote`, `demote`, with 1 to 50 numbers; the answer says what became of each, in ' +
      'the order sent. A number whose privacy settings refuse being added is sent an invitation to join instead ' +
      `(\`invited\`). This number must be an admin of the group. ${NOT_FOUND} ${ASKED}`,
  })
  @ApiOkResponse({ type: ParticipantResultListDto })
  @ApiErrorResponses(404, 422, 503)
  @ApiErrorExamples('conflict', 'the session cannot act on WhatsApp now, or this number is not an admin of the group', CONFLICTS)
  updateParticipants(
    @Caller() caller: Caller,
    @Param('sid') sid: string,
    @Param('jid') jid: string,
    @Body() body: UpdateParticipantsDto,
  ): Promise<ParticipantResultListDto> {
    return this.groups.updateParticipants(caller.orgId, sid, jid, body);
  }

  @Get(':jid/invite-link')
  @RequireCapability('manage')
  @ApiGroupJidParam()
  @ApiOperation({
    operationId: 'getGroupInviteLink',
    summary: 'Get the group\'s invite link',
    description: `The link anyone can join the group with (this number must be an admin). ${NOT_FOUND} ${ASKED}`,
  })
  @ApiOkResponse({ type: InviteLinkDto })
  @ApiErrorResponses(404, 503)
  @ApiErrorExamples('conflict', 'the session cannot act on WhatsApp now, or this number is not an admin of the group', CONFLICTS)
  inviteLink(@Caller() caller: Caller, @Param('sid') sid: string, @Param('jid') jid: string): Promise<InviteLinkDto> {
    return this.groups.inviteLink(caller.orgId, sid, jid);
  }
}
