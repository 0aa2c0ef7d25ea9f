import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ClusterObserver } from '../observer/cluster-observer';

/** 200 once the console's group has joined and a first snapshot of the cluster is in. */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(private readonly observer: ClusterObserver) {}

  @Get()
  check(@Res() response: Response): void {
    const ready = this.observer.isReady;
    response
      .status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json(ready ? { status: 'ok', missing: [] } : { status: 'unavailable', missing: ['kafka'] });
  }
}
