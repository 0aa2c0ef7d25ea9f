import 'reflect-metadata';
import { runConsole } from './run-console';

runConsole().then(
  ({ app, logger }) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'flow-console stopping');
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  },
  (error: unknown) => {
    process.stderr.write(`flow-console failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
