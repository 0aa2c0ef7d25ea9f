import { Module } from '@nestjs/common';
import { ReservationsConsumer } from './reservations.consumer';
import { ReservationsService } from './reservations.service';

@Module({ controllers: [ReservationsConsumer], providers: [ReservationsService] })
export class ReservationsModule {}
