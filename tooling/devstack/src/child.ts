import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { waitFor, WaitAborted } from './wait';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildSpec {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  log?: (line: string) => void;
  /** Signal sent if the node process exits while the child still runs. */
  exitSignal?: NodeJS.Signals;
  keepLines?: number;
}

export interface ManagedChild {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** Set once the process has exited. */
  exitInfo(): ExitInfo | undefined;
  lastLines(count?: number): string[];
  signal(signal: NodeJS.Signals): void;
  /** Sends `signal`, escalates to SIGKILL after `graceMs`, resolves on exit. */
  terminate(signal: NodeJS.Signals, graceMs: number): Promise<ExitInfo>;
}

const liveChildren = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const [child, signal] of liveChildren) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Children run in their own process group, so they would outlive a parent that exits or is
 * killed by a signal. A signal is only acted on when nobody else handles it (then the default
 * "die" is kept); programs with their own handlers (the stack CLI) stop things in order.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killLiveChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killLiveChildren();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export function spawnManaged(spec: ChildSpec): ManagedChild {
  installExitHook();
  const options: SpawnOptions = {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    // Own process group: a terminal Ctrl-C reaches only us, so we can stop things in order.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  };
  if (spec.uid !== undefined) options.uid = spec.uid;
  if (spec.gid !== undefined) options.gid = spec.gid;
  const child = spawn(spec.command, spec.args, options);
  const keep = spec.keepLines ?? 200;
  const lines: string[] = [];
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > keep) lines.shift();
    spec.log?.(line);
  };
  pipeLines(child.stdout, onLine);
  pipeLines(child.stderr, onLine);

  let exitInfo: ExitInfo | undefined;
  liveChildren.set(child, spec.exitSignal ?? 'SIGKILL');
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (error) => {
      onLine(`failed to start ${spec.command}: ${error.message}`);
      exitInfo ??= { code: -1, signal: null };
      liveChildren.delete(child);
      resolve(exitInfo);
    });
    child.once('close', (code, signal) => {
      exitInfo ??= { code, signal };
      liveChildren.delete(child);
      resolve(exitInfo);
    });
  });

  const managed: ManagedChild = {
    pid: child.pid ?? -1,
    exited,
    exitInfo: () => exitInfo,
    lastLines: (count = keep) => lines.slice(-count),
    signal: (signal) => {
      if (exitInfo === undefined) child.kill(signal);
    },
    terminate: async (signal, graceMs) => {
      if (exitInfo !== undefined) return exitInfo;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
  return managed;
}

function pipeLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

/** Fails a startup wait at once when the process it waits for has died. */
export function assertStillRunning(child: ManagedChild, what: string, lines = 40): void {
  const info = child.exitInfo();
  if (info === undefined) return;
  throw new WaitAborted(
    `${what} exited during startup (${describeExit(info)}):\n${child.lastLines(lines).join('\n')}`,
  );
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `exit code ${String(info.code)}`;
}

/**
 * Waits until a started server answers `url` with a 2xx, failing at once if it exits; on failure
 * it is killed, so a caller never keeps a half-started server.
 */
export async function waitUntilServing(
  child: ManagedChild,
  what: string,
  url: string,
  options: { timeoutMs: number; intervalMs: number },
): Promise<void> {
  try {
    await waitFor(
      async () => {
        assertStillRunning(child, what);
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
        return response?.ok ?? false;
      },
      { ...options, description: `${what} to answer ${url}` },
    );
  } catch (error) {
    await child.terminate('SIGKILL', 0);
    throw error;
  }
}

/** Runs a command to completion, streaming its lines; rejects with its tail on failure. */
export async function runToCompletion(spec: ChildSpec, what: string): Promise<void> {
  const child = spawnManaged(spec);
  const info = await child.exited;
  if (info.code !== 0) {
    throw new Error(`${what} failed (${describeExit(info)}):\n${child.lastLines(40).join('\n')}`);
  }
}
