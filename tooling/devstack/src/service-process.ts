import { join } from 'node:path';
import type { ServiceName } from '@shop/database';
import { assertStillRunning, spawnManaged } from './child';
import { findRepoRoot } from './paths';
import { waitFor } from './wait';

export type { ServiceName };

/** What runs from apps/<name>/dist/main.js: the three services and the flow console. */
export type AppName = ServiceName | 'flow-console';

export interface ServiceOptions {
  name: AppName;
  env: Record<string, string>;
  port: number;
  log?: (line: string) => void;
  healthTimeoutMs?: number;
  /** Script to run instead of apps/<name>/dist/main.js (a stand-in in tests). */
  entry?: string;
}

export interface ServiceProcess {
  name: AppName;
  port: number;
  baseUrl: string;
  pid: number;
  /** Resolves with the exit code (null when ended by a signal). */
  stop(signal?: 'SIGTERM'): Promise<number | null>;
  /** SIGKILL: a crash, for chaos tests. */
  kill(): void;
  /** Resolves when the process ends, whoever ended it. */
  exited: Promise<number | null>;
  output(): string[];
}

const STOP_GRACE_MS = 20_000;

/**
 * Runs a built service (`apps/<name>/dist/main.js`) as a child process and waits for /health.
 * Several instances of one service can run side by side on different ports.
 */
export async function spawnService(options: ServiceOptions): Promise<ServiceProcess> {
  const main = options.entry ?? join(findRepoRoot(), 'apps', options.name, 'dist', 'main.js');
  const child = spawnManaged({
    command: process.execPath,
    args: [main],
    env: { ...process.env, ...options.env, PORT: String(options.port) },
    keepLines: 500,
    ...(options.log ? { log: options.log } : {}),
  });
  const baseUrl = `http://127.0.0.1:${options.port}`;
  try {
    await waitFor(
      async () => {
        assertStillRunning(child, options.name, 50);
        return (
          (await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) })).status === 200
        );
      },
      {
        timeoutMs: options.healthTimeoutMs ?? 60_000,
        intervalMs: 150,
        description: `${options.name} ${baseUrl}/health`,
      },
    );
  } catch (error) {
    await child.terminate('SIGKILL', 0);
    throw error;
  }
  return {
    name: options.name,
    port: options.port,
    baseUrl,
    pid: child.pid,
    stop: async (signal = 'SIGTERM') => (await child.terminate(signal, STOP_GRACE_MS)).code,
    kill: () => child.signal('SIGKILL'),
    exited: child.exited.then((info) => info.code),
    output: () => child.lastLines(),
  };
}
