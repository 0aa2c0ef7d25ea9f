import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { ClientCredentialsToken, LOGGER } from '@shop/service-kit';
import { ConsoleController } from './api/console.controller';
import { HealthController } from './api/health.controller';
import { PagesController } from './api/pages.controller';
import { CONSOLE_CONFIG, type ConsoleConfig } from './config/console-config';
import { JourneyService } from './journey/journey.service';
import { ClusterObserver } from './observer/cluster-observer';
import { OverviewService } from './overview/overview.service';
import { SampleOrders } from './services/sample-order';
import { ServiceDirectory } from './services/service-directory';

@Module({})
export class AppModule {
  static register(config: ConsoleConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [ConsoleController, PagesController, HealthController],
      providers: [
        { provide: CONSOLE_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        {
          // The console calls the services as itself: internal endpoints, sample orders.
          provide: ClientCredentialsToken,
          useValue: new ClientCredentialsToken({
            tokenUrl: config.AUTH_TOKEN_URL ?? `${config.AUTH_ISSUER_URL.replace(/\/$/, '')}/token`,
            clientId: config.AUTH_CLIENT_ID,
            clientSecret: config.AUTH_CLIENT_SECRET,
          }),
        },
        ServiceDirectory,
        ClusterObserver,
        JourneyService,
        OverviewService,
        SampleOrders,
      ],
    };
  }
}
