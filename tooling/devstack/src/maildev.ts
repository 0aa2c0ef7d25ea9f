import { assertPortFree, waitFor } from './wait';

export interface MaildevOptions {
  smtpPort?: number;
  webPort?: number;
}

export interface RunningMaildev {
  smtpUrl: string;
  webUrl: string;
  stop(): Promise<void>;
}

/** The part of MailDev 2's (untyped) API used here. */
interface MaildevConfig {
  smtp: number;
  web: number;
  ip: string;
  silent: boolean;
}

interface MaildevServer {
  listen(): Promise<void>;
  close(callback: (error?: Error) => void): void;
}

type MaildevFactory = (config: MaildevConfig) => MaildevServer;

/** MailDev in-process: an SMTP server plus a web inbox, for the local stack. One per process. */
export async function startMaildev(options: MaildevOptions = {}): Promise<RunningMaildev> {
  const smtpPort = options.smtpPort ?? 1025;
  const webPort = options.webPort ?? 1080;
  await assertPortFree(smtpPort);
  await assertPortFree(webPort);

  const server = withoutNewSignalHandlers(() =>
    loadMaildev()({ smtp: smtpPort, web: webPort, ip: '127.0.0.1', silent: true }),
  );
  await server.listen();
  const webUrl = `http://localhost:${webPort}`;
  await waitFor(async () => (await fetch(`http://127.0.0.1:${webPort}/`)).ok, {
    timeoutMs: 10_000,
    intervalMs: 100,
    description: `MailDev web UI on port ${webPort}`,
  });
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    webUrl,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function loadMaildev(): MaildevFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- maildev ships no types
  return require('maildev') as unknown as MaildevFactory;
}

/** MailDev installs SIGINT/SIGTERM handlers that exit the process; the stack decides when to stop. */
function withoutNewSignalHandlers<T>(work: () => T): T {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const result = work();
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return result;
}
