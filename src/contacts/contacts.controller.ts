import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { ApiSessionIdParam } from '../sessions/session-id-param.decorator';
import { ApiContactJidParam } from './contact-id';
import { ContactDto, ContactPageDto, ProfilePictureDto } from './contact.dto';
import { ContactsService } from './contacts.service';
import { ListContactsQueryDto } from './list-contacts-query.dto';
import { LookupNumbersDto, NumberLookupListDto } from './lookup-numbers.dto';
import { NumberLookupsService } from './number-lookups.service';

/** What the routes that need WhatsApp answer when it cannot be asked. */
const ASKED = 'What WhatsApp answers is asked of the replica holding the session (any replica asks an `external` session\'s ' +
  'connector): 409 when the session cannot act now (not connected, or no connector configured); 503 when no replica ' +
  'holds the session, the holder or WhatsApp does not answer within 10 s, or the connector answers something malformed.';

const NOT_CONNECTED = { notConnected: { summary: 'The session is not connected', message: 'session is not connected', details: { status: 'connecting' } } };

@ApiTags('contacts')
@Controller('api/v1/sessions/:sid')
@ApiSessionIdParam()
export class ContactsController {
  constructor(
    private readonly contacts: ContactsService,
    private readonly lookups: NumberLookupsService,
  ) {}

  @Get('contacts')
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'listContacts',
    summary: 'List contacts',
    description:
      'The people of the session\'s stored copy, in `id` order. `q` keeps those whose saved `name` starts with it ' +
      '(case-insensitively) or whose number starts with it. Contacts come from WhatsApp (its contact and history ' +
      'events) or a connector\'s `contact.upsert` events.',
  })
  @ApiOkResponse({ type: ContactPageDto })
  @ApiErrorResponses(404, 422)
  list(@Caller() caller: Caller, @Param('sid') sid: string, @Query() query: ListContactsQueryDto): Promise<ContactPageDto> {
    return this.contacts.list(caller.orgId, sid, { ...query, limit: query.limit! });
  }

  @Get('contacts/:jid')
  @RequireCapability('read')
  @ApiContactJidParam()
  @ApiOperation({
    operationId: 'getContact',
    summary: 'Get a contact',
    description:
      'The contact by its JID; a `@lid` JID finds the contact WhatsApp revealed it belongs to. 404 `contact not found` ' +
      'when none is stored (or the JID is not a person\'s).',
  })
  @ApiOkResponse({ type: ContactDto })
  @ApiErrorResponses(404)
  get(@Caller() caller: Caller, @Param('sid') sid: string, @Param('jid') jid: string): Promise<ContactDto> {
    return this.contacts.get(caller.orgId, sid, jid);
  }

  @Get('contacts/:jid/picture')
  @RequireCapability('read')
  @ApiContactJidParam()
  @ApiOperation({
    operationId: 'getContactPicture',
    summary: 'Get a profile picture URL',
    description:
      'The current URL of the person\'s (or a group\'s) profile picture, from WhatsApp; null when there is none or it ' +
      `is hidden from this number. Not stored: the URL expires. ${ASKED}`,
  })
  @ApiOkResponse({ type: ProfilePictureDto })
  @ApiErrorResponses(404, 503)
  @ApiErrorExamples('conflict', 'the session cannot act on WhatsApp now', NOT_CONNECTED)
  picture(@Caller() caller: Caller, @Param('sid') sid: string, @Param('jid') jid: string): Promise<ProfilePictureDto> {
    return this.contacts.picture(caller.orgId, sid, jid);
  }

  @Post('numbers/lookup')
  @HttpCode(200)
  @RequireCapability('read')
  @ApiOperation({
    operationId: 'lookupNumbers',
    summary: 'Check which numbers are on WhatsApp',
    description:
      'For each number, whether it has a WhatsApp account and the JID to message it at, in the order asked. Answers ' +
      'are cached for 24 h per session and served from there. Each session asks WhatsApp about at most ' +
      '`LOOKUP_RATE_PER_MINUTE` numbers a minute (default 60): when the numbers not cached are more than it may still ' +
      'ask this minute, the whole request is 429 with `Retry-After` and nothing is asked (a request whose numbers are ' +
      'all cached is answered regardless). A request with more uncached numbers than the limit itself never passes: ' +
      `split it. ${ASKED}`,
  })
  @ApiOkResponse({ type: NumberLookupListDto })
  @ApiErrorResponses(404, 422, 429, 503)
  @ApiErrorExamples('conflict', 'the session cannot act on WhatsApp now', NOT_CONNECTED)
  lookup(@Caller() caller: Caller, @Param('sid') sid: string, @Body() body: LookupNumbersDto): Promise<NumberLookupListDto> {
    return this.lookups.lookup(caller.orgId, sid, body.phoneNumbers);
  }
}
