import { Module } from '@nestjs/common';
import { ReservationsConsumer } from './reservations.consumer';
import { ReservationsRepository } from './reservations.repository';
import { ReservationsService } from './reservations.service';

@Module({
  controllers: [ReservationsConsumer],
  providers: [ReservationsService, ReservationsRepository],
})
export class ReservationsModule {}
