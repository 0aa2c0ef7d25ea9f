import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Messages from the sink child process to the bench. */
export type SinkMessage =
  | { type: 'ready'; port: number }
  | { type: 'emails'; stamps: Array<[string, number, number]>; unmatched: number };

export interface EmailStamp {
  /** Epoch ms: the end of DATA arrived. */
  receivedAt: number;
  /** Epoch ms: the server answered it (receivedAt + the configured delay). */
  acceptedAt: number;
}

export interface EmailSink {
  url: string;
  pid: number;
  delayMs: number;
  /** The email received for an order, if any. */
  stampFor(orderId: string): EmailStamp | undefined;
  /** How many of these orders have had their email. */
  countReceived(orderIds: Iterable<string>): number;
  /** Emails beyond the first for these orders: each order is owed exactly one. */
  countRepeated(orderIds: Iterable<string>): number;
  /** Drops the stamps of these orders (after a step has read them). */
  forget(orderIds: Iterable<string>): void;
  /** Emails whose body named no order: not ours, or a template change the bench must follow. */
  unmatched(): number;
  stop(): Promise<void>;
}

/**
 * A script of this package as built: this code also runs from src/ under jest, where only the
 * compiled dist/ files can be started as processes.
 */
export function builtScript(file: string): string {
  const script = join(__dirname, '..', 'dist', file);
  if (!existsSync(script)) throw new Error(`${script} is missing: build @shop/bench first`);
  return script;
}

/** Starts the SMTP sink in a child process; `delayMs` makes it answer each message that late. */
export function startEmailSink(delayMs: number): Promise<EmailSink> {
  const child: ChildProcess = fork(builtScript('smtp-sink.js'), [String(delayMs)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stamps = new Map<string, EmailStamp>();
  const repeated = new Map<string, number>();
  let unmatched = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  return new Promise((resolve, reject) => {
    child.once('error', reject);
    void exit.then(() => reject(new Error('the SMTP sink exited before it was ready')));
    child.on('message', (message: SinkMessage) => {
      if (message.type === 'emails') {
        for (const [orderId, receivedAt, acceptedAt] of message.stamps) {
          // The first email per order: a resend (same Message-ID) must not move the figure.
          if (!stamps.has(orderId)) stamps.set(orderId, { receivedAt, acceptedAt });
          else repeated.set(orderId, (repeated.get(orderId) ?? 0) + 1);
        }
        unmatched += message.unmatched;
        return;
      }
      resolve({
        url: `smtp://127.0.0.1:${message.port}`,
        pid: child.pid ?? -1,
        delayMs,
        stampFor: (orderId) => stamps.get(orderId),
        countReceived: (orderIds) => {
          let count = 0;
          for (const id of orderIds) if (stamps.has(id)) count += 1;
          return count;
        },
        countRepeated: (orderIds) => {
          let count = 0;
          for (const id of orderIds) count += repeated.get(id) ?? 0;
          return count;
        },
        forget: (orderIds) => {
          for (const id of orderIds) {
            stamps.delete(id);
            repeated.delete(id);
          }
        },
        unmatched: () => unmatched,
        stop: async () => {
          if (exited) return;
          child.send({ type: 'stop' });
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          await exit;
          clearTimeout(timer);
        },
      });
    });
  });
}
