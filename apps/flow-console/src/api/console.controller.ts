import {
  BadRequestException,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { distinctUntilChanged, from, map, Observable, switchMap, tap, timer } from 'rxjs';
import { z } from 'zod';
import { ZodValidationPipe } from '@shop/service-kit';
import { JourneyService } from '../journey/journey.service';
import { ClusterObserver } from '../observer/cluster-observer';
import { OverviewService } from '../overview/overview.service';
import { SampleOrders } from '../services/sample-order';
import { ServiceDirectory } from '../services/service-directory';
import { SERVICE_NAMES, roleOf, type ServiceName } from '../topology';
import type { Journey, Overview, RecentOrder, SampleOrderResult } from '../views/view-models';

const orderId = new ZodValidationPipe(z.uuid(), 'order id');
const serviceName = new ZodValidationPipe(
  z.enum(SERVICE_NAMES as [ServiceName, ...ServiceName[]]),
  'service',
);
const JOURNEY_REFRESH_MS = 500;

/** The console's data as JSON: what the pages show, for scripts and tests too. */
@ApiTags('flow console')
@Controller('api')
export class ConsoleController {
  constructor(
    private readonly overviews: OverviewService,
    private readonly journeys: JourneyService,
    private readonly observer: ClusterObserver,
    private readonly directory: ServiceDirectory,
    private readonly samples: SampleOrders,
  ) {}

  @Get('overview')
  @ApiOperation({ summary: 'The system map: services, topics and partitions, groups and lag' })
  @ApiOkResponse({ description: 'See Overview in apps/flow-console/src/views/view-models.ts' })
  overview(): Overview {
    this.observer.noteViewer();
    return this.overviews.overview();
  }

  @Sse('overview/stream')
  @ApiOperation({ summary: 'The overview as server-sent events (`overview`), about once a second' })
  overviewStream(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      const close = this.observer.openViewer();
      const send = () => subscriber.next({ type: 'overview', data: this.overviews.overview() });
      send();
      let last = 0;
      // Records arrive in bursts; one update per 250 ms is live enough and spares the browser.
      const stop = this.observer.onChange(() => {
        if (Date.now() - last < 250) return;
        last = Date.now();
        send();
      });
      return () => {
        stop();
        close();
      };
    });
  }

  @Get('orders/recent')
  @ApiOperation({ summary: 'Recent orders, newest first, as their events on Kafka tell' })
  recent(): { orders: RecentOrder[] } {
    this.observer.noteViewer();
    return { orders: this.observer.records.recentOrders(30) };
  }

  @Get('journeys/:orderId')
  @ApiParam({ name: 'orderId', format: 'uuid' })
  @ApiOperation({
    summary: "One order's journey: business steps and Kafka mechanics on one time axis",
  })
  journey(@Param('orderId', orderId) id: string): Promise<Journey> {
    this.observer.noteViewer();
    return this.journeys.journey(id);
  }

  @Sse('journeys/:orderId/stream')
  @ApiParam({ name: 'orderId', format: 'uuid' })
  @ApiOperation({ summary: 'The journey as server-sent events (`journey`) whenever it changes' })
  journeyStream(@Param('orderId', orderId) id: string): Observable<MessageEvent> {
    return timer(0, JOURNEY_REFRESH_MS).pipe(
      tap(() => this.observer.noteViewer()),
      switchMap(() => from(this.journeys.journey(id))),
      map((journey) => JSON.stringify(journey)),
      distinctUntilChanged(),
      map((data) => ({ type: 'journey', data })),
    );
  }

  @Post('sample-order')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Places a sample order through the order API and times its answer' })
  sampleOrder(): Promise<SampleOrderResult> {
    return this.samples.place();
  }

  @Post('services/:service/pause')
  @HttpCode(HttpStatus.OK)
  @ApiParam({ name: 'service', enum: SERVICE_NAMES })
  @ApiOperation({
    summary: "Pauses every replica's consumer of the service (no process is stopped)",
  })
  pause(
    @Param('service', serviceName) service: ServiceName,
  ): Promise<{ service: string; paused: boolean }> {
    return this.setPaused(service, true);
  }

  @Post('services/:service/resume')
  @HttpCode(HttpStatus.OK)
  @ApiParam({ name: 'service', enum: SERVICE_NAMES })
  @ApiOperation({ summary: "Resumes every replica's consumer of the service" })
  resume(
    @Param('service', serviceName) service: ServiceName,
  ): Promise<{ service: string; paused: boolean }> {
    return this.setPaused(service, false);
  }

  private async setPaused(
    service: ServiceName,
    paused: boolean,
  ): Promise<{ service: string; paused: boolean }> {
    if (roleOf(service)?.consumes.length === 0) {
      throw new BadRequestException(`${service} consumes nothing to pause`);
    }
    if (!(await this.directory.setPaused(service, paused))) {
      throw new BadRequestException(`not every replica of ${service} answered; see the map`);
    }
    return { service, paused };
  }
}
