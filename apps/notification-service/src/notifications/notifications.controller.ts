import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ApiErrorResponses,
  ApiQueryFrom,
  AUTH_ERROR_RESPONSES,
  openApiSchema,
  Roles,
  ZodValidationPipe,
} from '@shop/service-kit';
import {
  listNotificationsQuerySchema,
  type ListNotificationsQuery,
} from './dto/list-notifications.query';
import { notificationViewSchema, type NotificationView } from './dto/notification.response';
import { NotificationsService } from './notifications.service';

/** REST transport: validates, calls one domain method. Recipients are personal data: admins only. */
@ApiTags('notifications')
@ApiBearerAuth()
@Roles('admin')
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiQueryFrom(listNotificationsQuerySchema)
  @ApiOkResponse({
    description: 'The emails about the order with their delivery status, oldest first',
    schema: openApiSchema(z.array(notificationViewSchema)),
  })
  @ApiErrorResponses({
    400: 'orderId is missing or not a UUID',
    ...AUTH_ERROR_RESPONSES,
    503: 'The database is unavailable for a moment; retry after Retry-After seconds',
  })
  async list(
    @Query(new ZodValidationPipe(listNotificationsQuerySchema, 'query'))
    query: ListNotificationsQuery,
  ): Promise<NotificationView[]> {
    return this.notifications.list(query.orderId);
  }
}
