import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RequireCapability } from '../auth/access.decorators';
import { Caller } from '../auth/caller.decorator';
import { ApiErrorExamples } from '../common/http/api-error-examples.decorator';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { CreateWebhookDto } from './create-webhook.dto';
import { ListDeliveriesQueryDto } from './list-deliveries-query.dto';
import { UpdateWebhookDto } from './update-webhook.dto';
import {
  CreatedWebhookDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookPageDto,
  WebhookSecretDto,
  WebhookTestResultDto,
} from './webhook.dto';
import { MAX_WEBHOOKS_PER_ORG, WebhooksService } from './webhooks.service';

const ApiWebhookIdParam = (): MethodDecorator =>
  ApiParam({
    name: 'id',
    description: 'The webhook id (a ULID). A webhook of another organization answers 404 like one that does not exist.',
    example: '01HF7Z3K8Q2V5N9T4W6X0Y1B2C',
  });

const WebhookNotFound = (): MethodDecorator =>
  ApiErrorExamples('not_found', 'no such webhook in the caller\'s organization', {
    webhook: { summary: 'Unknown webhook, or another organization\'s', message: 'webhook not found' },
  });

const URL_RULES =
  'The URL must be `https://` or `http://`, at most 2048 characters, without credentials, and its host must not ' +
  'be or resolve to a loopback, private, link-local or otherwise non-public address (unless the gateway runs with ' +
  '`WEBHOOK_ALLOW_PRIVATE_URLS=true`): such a URL is refused with 422.';

@ApiTags('webhooks')
@Controller('api/v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Create a webhook',
    description:
      'Events of the organization that match `events`, `sessionIds` and `includeHistory` are POSTed to `url`, ' +
      'signed as the Standard Webhooks specification says. The answer carries the signing `secret`, which is ' +
      `not shown again. ${URL_RULES} An organization has at most ${MAX_WEBHOOKS_PER_ORG} webhooks.`,
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiErrorExamples('conflict', `the organization already has ${MAX_WEBHOOKS_PER_ORG} webhooks`, {
    limit: {
      summary: 'Too many webhooks',
      message: `an organization has at most ${MAX_WEBHOOKS_PER_ORG} webhooks`,
      details: { limit: MAX_WEBHOOKS_PER_ORG },
    },
  })
  @ApiErrorResponses(422)
  create(@Caller() caller: Caller, @Body() body: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(caller.orgId, body);
  }

  @Get()
  @RequireCapability('manage')
  @ApiOperation({ operationId: 'listWebhooks', summary: 'List webhooks, newest first', description: 'Secrets are never listed.' })
  @ApiOkResponse({ type: WebhookPageDto })
  @ApiErrorResponses(422)
  list(@Caller() caller: Caller, @Query() query: PageQueryDto): Promise<WebhookPageDto> {
    return this.webhooks.list(caller.orgId, query.limit!, query.cursor);
  }

  @Get(':id')
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiOperation({ operationId: 'getWebhook', summary: 'Get a webhook' })
  @ApiOkResponse({ type: WebhookDto })
  @WebhookNotFound()
  get(@Caller() caller: Caller, @Param('id') id: string): Promise<WebhookDto> {
    return this.webhooks.get(caller.orgId, id);
  }

  @Patch(':id')
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change a webhook',
    description:
      'A partial update: only the fields sent change. `enabled: true` resumes a disabled webhook (its pending ' +
      `deliveries are attempted again); \`enabled: false\` pauses it. ${URL_RULES}`,
  })
  @ApiOkResponse({ type: WebhookDto })
  @WebhookNotFound()
  @ApiErrorResponses(422)
  update(@Caller() caller: Caller, @Param('id') id: string, @Body() body: UpdateWebhookDto): Promise<WebhookDto> {
    return this.webhooks.update(caller.orgId, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete a webhook', description: 'Its pending deliveries are dropped.' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @WebhookNotFound()
  delete(@Caller() caller: Caller, @Param('id') id: string): Promise<void> {
    return this.webhooks.delete(caller.orgId, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate a webhook\'s signing secret',
    description:
      'Answers a new secret. For 24 h the previous secret keeps signing beside it: each delivery carries both ' +
      'signatures in `webhook-signature`, separated by a space, so receivers can switch without losing any.',
  })
  @ApiOkResponse({ type: WebhookSecretDto })
  @WebhookNotFound()
  rotateSecret(@Caller() caller: Caller, @Param('id') id: string): Promise<WebhookSecretDto> {
    return this.webhooks.rotateSecret(caller.orgId, id);
  }

  @Post(':id/test')
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiOperation({
    operationId: 'testWebhook',
    summary: 'Send a test event',
    description:
      'POSTs one signed `webhook.test` event (not recorded in the event log) to the webhook now, also when it is ' +
      'disabled, and answers what the receiver did.',
  })
  @ApiOkResponse({ type: WebhookTestResultDto })
  @WebhookNotFound()
  test(@Caller() caller: Caller, @Param('id') id: string): Promise<WebhookTestResultDto> {
    return this.webhooks.test(caller.orgId, id);
  }

  @Get(':id/deliveries')
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'List a webhook\'s deliveries, newest first',
    description:
      'One delivery per event sent to the webhook, with its attempts. A failed attempt is retried after about ' +
      '5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h; a delivery still failing 24 h after its event is ' +
      '`failed` (retry it by hand).',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @WebhookNotFound()
  @ApiErrorResponses(422)
  listDeliveries(@Caller() caller: Caller, @Param('id') id: string, @Query() query: ListDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.listDeliveries(caller.orgId, id, { limit: query.limit!, cursor: query.cursor, status: query.status });
  }

  @Post(':id/deliveries/:did/retry')
  @HttpCode(202)
  @RequireCapability('manage')
  @ApiWebhookIdParam()
  @ApiParam({ name: 'did', description: 'The delivery id.', example: 'dlv_4821' })
  @ApiOperation({
    operationId: 'retryWebhookDelivery',
    summary: 'Retry a delivery now',
    description:
      'A `failed` or `pending` delivery is attempted again at once, by whichever replica is free (an attempt ' +
      'already under way is left to finish). A delivered one, or one of a disabled webhook, answers 409.',
  })
  @ApiAcceptedResponse({ description: 'The delivery is due now.' })
  @ApiErrorExamples('not_found', 'no such webhook, or no such delivery of it', {
    webhook: { summary: 'Unknown webhook, or another organization\'s', message: 'webhook not found' },
    delivery: { summary: 'Unknown delivery', message: 'delivery not found' },
  })
  @ApiErrorExamples('conflict', 'the delivery cannot be retried now', {
    delivered: { summary: 'Already delivered', message: 'the delivery was delivered' },
    disabled: { summary: 'The webhook is disabled', message: 'the webhook is disabled; enable it to retry its deliveries' },
  })
  retryDelivery(@Caller() caller: Caller, @Param('id') id: string, @Param('did') did: string): Promise<void> {
    return this.webhooks.retryDelivery(caller.orgId, id, did);
  }
}
