import { Module } from '@nestjs/common';
import { SERVICE_FACTS } from '@shop/service-kit';
import { NotificationFacts } from '../internal/notification-facts';
import { PrismaService } from '../prisma/prisma.service';
import { MailDispatcher } from './mail-dispatcher';
import { MailMetrics } from './mail-metrics';
import { MAILER, SmtpMailer } from './mailer';
import { NotificationsConsumer } from './notifications.consumer';
import { NotificationsController } from './notifications.controller';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';

@Module({
  controllers: [NotificationsController, NotificationsConsumer],
  providers: [
    NotificationsService,
    NotificationsRepository,
    PrismaService,
    MailDispatcher,
    MailMetrics,
    { provide: MAILER, useClass: SmtpMailer },
    { provide: SERVICE_FACTS, useClass: NotificationFacts },
  ],
})
export class NotificationsModule {}
