import type { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger, type Logger } from '@shop/logging';
import { createHttpApplication, serveApiDocument } from '@shop/service-kit';
import { WEB_DIR } from './api/pages.controller';
import { AppModule } from './app.module';
import { loadConsoleConfig, type ConsoleConfig } from './config/console-config';

export interface RunningConsole {
  app: NestExpressApplication;
  config: ConsoleConfig;
  logger: Logger;
  url: string;
}

/** Boots the console: config (validated once), its Kafka group and poller, the pages and /api. */
export async function runConsole(env: NodeJS.ProcessEnv = process.env): Promise<RunningConsole> {
  const config = loadConsoleConfig(env);
  const logger = createLogger({
    service: 'flow-console',
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
  });
  const app = await createHttpApplication(AppModule.register(config, logger), logger, {
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
  });
  app.useStaticAssets(WEB_DIR, { prefix: '/assets/', index: false });
  serveApiDocument(app, {
    title: 'Flow console',
    description: 'What the console shows, as JSON: the system map and the journey of one order.',
  });
  await app.listen(config.PORT);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  logger.info({ url }, 'flow-console listening');
  return { app, config, logger, url };
}
