/**
 * Child process entry: an SMTP server (devstack's catcher) that reports, for every email, the
 * order it is about and when it was received and accepted. Runs apart from the load generator so
 * parsing emails never delays the generator's event loop, and its CPU is counted on its own.
 */
import { startSmtpCatcher } from '@shop/devstack';
import type { SinkMessage } from './email-sink';

const ORDER_REFERENCE = /Order reference: ([0-9a-f-]{36})/;
const FLUSH_INTERVAL_MS = 100;

async function main(): Promise<void> {
  const delayMs = Number(process.argv[2] ?? '0');
  const catcher = await startSmtpCatcher({ delayMs });
  const send = (message: SinkMessage): void => {
    process.send?.(message);
  };
  const flush = (): void => {
    // messages() and clear() run in one tick: nothing can arrive in between and be lost.
    const caught = catcher.messages();
    catcher.clear();
    if (caught.length === 0) return;
    const stamps: Array<[string, number, number]> = [];
    let unmatched = 0;
    for (const message of caught) {
      const orderId = ORDER_REFERENCE.exec(message.text)?.[1];
      if (orderId)
        stamps.push([orderId, message.receivedAt.getTime(), message.acceptedAt.getTime()]);
      else unmatched += 1;
    }
    send({ type: 'emails', stamps, unmatched });
  };
  const timer = setInterval(flush, FLUSH_INTERVAL_MS);
  const stop = (): void => {
    clearInterval(timer);
    flush();
    // The sender's pooled connections would keep close() waiting; the process is ending anyway.
    void catcher.stop();
    setTimeout(() => process.exit(0), 200).unref();
    process.disconnect?.();
  };
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'stop') stop();
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: catcher.port });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `smtp sink failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
