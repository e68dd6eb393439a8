import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { DELIVERY_STATUSES, DeliveryStatus } from './webhook-deliveries.repository';

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiProperty({ required: false, enum: DELIVERY_STATUSES, description: 'Only deliveries in this state.' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}
