import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../../common/http/api-error-responses.decorator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { RequireCapability } from '../access.decorators';
import { Caller } from '../caller.decorator';
import { ApiKeyPageDto, CreatedApiKeyDto } from './api-key.dto';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './create-api-key.dto';

@ApiTags('api-keys')
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post()
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description:
      'Creates a key of the caller\'s organization with a fixed set of capabilities, each of which the caller ' +
      'must hold itself (asking for more answers 403 and creates nothing). The key is in this answer only: it ' +
      'is stored as a hash and cannot be shown again.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrorResponses(422)
  create(@Caller() caller: Caller, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.apiKeys.create(caller.orgId, body, caller);
  }

  @Get()
  @RequireCapability('manage')
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: 'List API keys, newest first',
    description: 'The organization\'s active keys; revoked keys are not listed. The secret is never part of a key here.',
  })
  @ApiOkResponse({ type: ApiKeyPageDto })
  @ApiErrorResponses(422)
  list(@Caller() caller: Caller, @Query() query: PageQueryDto): Promise<ApiKeyPageDto> {
    return this.apiKeys.list(caller.orgId, query.limit!, query.cursor);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireCapability('manage')
  @ApiParam({ name: 'id', description: 'The key\'s id (ULID).', example: '01HF7Z3K8Q2V5N9T4W6X0Y1B2C' })
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: 'The key answers 401 from its next request on (on every replica within 5 s).',
  })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiErrorResponses(404)
  revoke(@Caller() caller: Caller, @Param('id') id: string): Promise<void> {
    return this.apiKeys.revoke(caller.orgId, id);
  }
}
