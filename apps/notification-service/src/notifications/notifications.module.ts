import { Module } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';
import { MailDispatcher } from './mail-dispatcher';
import { MAILER, SmtpMailer } from './mailer';
import { NotificationsConsumer } from './notifications.consumer';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';

@Module({
  controllers: [NotificationsController, NotificationsConsumer],
  providers: [
    NotificationsService,
    PrismaService,
    MailDispatcher,
    { provide: MAILER, useClass: SmtpMailer },
  ],
})
export class NotificationsModule {}
