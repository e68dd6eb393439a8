import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/access.decorators';
import { ApiErrorResponses } from '../common/http/api-error-responses.decorator';
import { HealthService } from './health.service';

export class HealthStatusDto {
  /** Always `ok` on a 200. */
  status!: 'ok';
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: 200 while the process runs' })
  live(): HealthStatusDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Readiness: 200 when the database answers' })
  @ApiErrorResponses(503)
  async ready(): Promise<HealthStatusDto> {
    await this.health.checkReady();
    return { status: 'ok' };
  }
}
