import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { errorResponseSchema, openApiSchema, ZodValidationPipe } from '@shop/service-kit';
import {
  listNotificationsQuerySchema,
  type ListNotificationsQuery,
} from './dto/list-notifications.query';
import { notificationViewSchema, type NotificationView } from './dto/notification.response';
import { NotificationsService } from './notifications.service';

/** REST transport: validates, calls one domain method. */
@ApiTags('notifications')
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiQuery({ name: 'orderId', required: true, schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({
    description: 'The emails about the order with their delivery status, oldest first',
    schema: openApiSchema(z.array(notificationViewSchema)),
  })
  @ApiBadRequestResponse({
    description: 'orderId is missing or not a UUID',
    schema: openApiSchema(errorResponseSchema),
  })
  async list(
    @Query(new ZodValidationPipe(listNotificationsQuerySchema, 'query'))
    query: ListNotificationsQuery,
  ): Promise<NotificationView[]> {
    return this.notifications.list(query.orderId);
  }
}
