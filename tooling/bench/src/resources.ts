import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** A process to watch; `withChildren` adds every direct child (Postgres: one process per connection). */
export interface ProcessTarget {
  name: string;
  pid: number;
  withChildren?: boolean;
}

export interface ProcessUsage {
  /** Mean CPU over the window, in % of one core (200 % = both cores of a 2-core machine). */
  cpuPercent: number | null;
  cpuPercentPeak: number | null;
  /** Resident memory in MiB; for a process tree, anonymous memory of each plus shared memory once. */
  rssMb: number | null;
  rssMbPeak: number | null;
}

export interface SystemUsage {
  /** Busy time of all cores together, in % of the machine (100 = every core busy). */
  busyPercent: number | null;
  /** Time the hypervisor gave to other guests, in % of the machine: a noisy neighbour. */
  stealPercent: number | null;
}

export interface ResourceUsage {
  processes: Record<string, ProcessUsage>;
  system: SystemUsage;
}

interface CpuSample {
  ticks: number;
  rssBytes: number;
}

interface Window {
  first: Map<string, { at: number; ticks: number }>;
  last: Map<string, { at: number; ticks: number }>;
  peakCpu: Map<string, number>;
  rss: Map<string, number[]>;
  systemFirst: SystemTicks | undefined;
  systemLast: SystemTicks | undefined;
}

interface SystemTicks {
  total: number;
  idle: number;
  steal: number;
}

export const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/**
 * Samples /proc once a second while a step runs: CPU from utime+stime in /proc/<pid>/stat (a
 * process tree also counts its exited children through cutime+cstime), memory from /proc/<pid>/status.
 */
export class ResourceSampler {
  private timer: NodeJS.Timeout | undefined;
  private window: Window = emptyWindow();
  private sampling: Promise<void> = Promise.resolve();
  private previous = new Map<string, { at: number; ticks: number }>();

  constructor(private readonly targets: () => ProcessTarget[]) {}

  start(intervalMs = 1_000): void {
    this.window = emptyWindow();
    this.previous = new Map();
    this.sampling = this.sample();
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, intervalMs);
  }

  async stop(): Promise<ResourceUsage> {
    if (this.timer) clearInterval(this.timer);
    await this.sampling;
    await this.sample();
    return this.summarise();
  }

  private async sample(): Promise<void> {
    const at = Date.now();
    const targets = this.targets();
    const children = targets.some((target) => target.withChildren)
      ? await childrenByParent()
      : new Map<number, number[]>();
    await Promise.all(
      targets.map(async (target) => {
        const pids = [target.pid, ...(target.withChildren ? (children.get(target.pid) ?? []) : [])];
        const sample = await treeSample(target.pid, pids);
        if (!sample) return;
        const point = { at, ticks: sample.ticks };
        if (!this.window.first.has(target.name)) this.window.first.set(target.name, point);
        this.window.last.set(target.name, point);
        const before = this.previous.get(target.name);
        if (before && at > before.at) {
          const cpu = cpuPercent(before, point);
          this.window.peakCpu.set(
            target.name,
            Math.max(this.window.peakCpu.get(target.name) ?? 0, cpu),
          );
        }
        this.previous.set(target.name, point);
        const rss = this.window.rss.get(target.name) ?? [];
        rss.push(sample.rssBytes);
        this.window.rss.set(target.name, rss);
      }),
    );
    const system = await systemTicks();
    if (system) {
      this.window.systemFirst ??= system;
      this.window.systemLast = system;
    }
  }

  private summarise(): ResourceUsage {
    const processes: Record<string, ProcessUsage> = {};
    for (const target of this.targets()) {
      const first = this.window.first.get(target.name);
      const last = this.window.last.get(target.name);
      const rss = this.window.rss.get(target.name) ?? [];
      processes[target.name] = {
        cpuPercent: first && last && last.at > first.at ? round(cpuPercent(first, last)) : null,
        cpuPercentPeak: roundOrNull(this.window.peakCpu.get(target.name)),
        rssMb: rss.length ? round(mean(rss) / 2 ** 20) : null,
        rssMbPeak: rss.length ? round(Math.max(...rss) / 2 ** 20) : null,
      };
    }
    const { systemFirst: a, systemLast: b } = this.window;
    const total = a && b ? b.total - a.total : 0;
    return {
      processes,
      system: {
        busyPercent:
          a && b && total > 0 ? round((100 * (total - (b.idle - a.idle))) / total) : null,
        stealPercent: a && b && total > 0 ? round((100 * (b.steal - a.steal)) / total) : null,
      },
    };
  }
}

function emptyWindow(): Window {
  return {
    first: new Map(),
    last: new Map(),
    peakCpu: new Map(),
    rss: new Map(),
    systemFirst: undefined,
    systemLast: undefined,
  };
}

function cpuPercent(
  from: { at: number; ticks: number },
  to: { at: number; ticks: number },
): number {
  return (100 * ((to.ticks - from.ticks) / CLOCK_TICKS)) / ((to.at - from.at) / 1_000);
}

/**
 * CPU ticks of the whole tree. Memory: anonymous pages of each process, plus file-backed and shared
 * pages once (every Postgres backend maps the same binary and shared buffers).
 */
async function treeSample(root: number, pids: number[]): Promise<CpuSample | undefined> {
  let ticks = 0;
  let anonBytes = 0;
  let fileBytes = 0;
  let sharedBytes = 0;
  let rootSeen = false;
  for (const pid of pids) {
    const stat = await readStat(pid);
    if (!stat) continue;
    if (pid === root) rootSeen = true;
    // A parent's cutime/cstime hold its reaped children: a backend that exits mid-window still counts.
    ticks += stat.utime + stat.stime + (pid === root ? stat.cutime + stat.cstime : 0);
    const memory = await readMemory(pid);
    anonBytes += memory.anon;
    fileBytes = Math.max(fileBytes, memory.file);
    sharedBytes = Math.max(sharedBytes, memory.shmem);
  }
  return rootSeen ? { ticks, rssBytes: anonBytes + fileBytes + sharedBytes } : undefined;
}

interface Stat {
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** utime and stime of a process, or of a thread with `/proc/<pid>/task/<tid>`. */
export async function readStat(pid: number | string): Promise<Stat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after its closing one.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      utime: Number(fields[11]),
      stime: Number(fields[12]),
      cutime: Number(fields[13]),
      cstime: Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

async function readMemory(pid: number): Promise<{ anon: number; file: number; shmem: number }> {
  const memory = { anon: 0, file: 0, shmem: 0 };
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    for (const line of text.split('\n')) {
      const match = /^(RssAnon|RssFile|RssShmem):\s+(\d+) kB/.exec(line);
      if (!match) continue;
      const bytes = Number(match[2]) * 1_024;
      if (match[1] === 'RssAnon') memory.anon = bytes;
      else if (match[1] === 'RssFile') memory.file = bytes;
      else memory.shmem = bytes;
    }
  } catch {
    // the process ended between listing and reading
  }
  return memory;
}

export async function childrenByParent(): Promise<Map<number, number[]>> {
  const children = new Map<number, number[]>();
  const entries = await readdir('/proc');
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await readStat(Number(entry));
        if (!stat) return;
        const list = children.get(stat.ppid) ?? [];
        list.push(Number(entry));
        children.set(stat.ppid, list);
      }),
  );
  return children;
}

async function systemTicks(): Promise<SystemTicks | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      values;
    return {
      total: user + nice + system + idle + iowait + irq + softirq + steal,
      idle: idle + iowait,
      steal,
    };
  } catch {
    return undefined;
  }
}

/** The parent process id of `pid` (e.g. the Postgres postmaster of one of its backends). */
export async function parentPid(pid: number): Promise<number | undefined> {
  return (await readStat(pid))?.ppid;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value);
}
