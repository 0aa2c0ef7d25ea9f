import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  description: string;
}

type Falsy = undefined | false | null;

/** Thrown by a probe to stop waiting at once (e.g. the process being waited for died). */
export class WaitAborted extends Error {}

/** Polls `probe` until it yields a truthy value; a throwing probe counts as "not yet". */
export async function waitFor<T>(
  probe: () => Promise<T | Falsy> | T | Falsy,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 200;
  let lastResult: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await probe();
      if (result) return result;
      lastResult = result;
      lastError = undefined;
    } catch (error) {
      if (error instanceof WaitAborted) throw error;
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${options.timeoutMs}ms waiting for ${options.description}; last result: ${describeLast(lastResult, lastError)}`,
  );
}

function describeLast(result: unknown, error: unknown): string {
  if (error instanceof Error) return `error: ${error.message}`;
  if (error !== undefined) return `error: ${inspect(error)}`;
  return inspect(result);
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() =>
        port ? resolvePort(port) : reject(new Error('could not get a free port')),
      );
    });
  });
}

/** Fails fast with a readable message instead of a crash deep inside a server library. */
export function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`port ${port} on ${host} is not free (${error.code ?? error.message})`)),
    );
    server.listen(port, host, () => server.close(() => resolveFree()));
  });
}
