import { readdir, readFile } from 'node:fs/promises';
import { childrenByParent, CLOCK_TICKS, readStat, type ProcessTarget } from './resources';

/** CPU of one part of a process over the profiled window, in % of one core. */
export interface CpuShare {
  name: string;
  cpuPercent: number;
}

/** Ticks used so far, per thread or child process, with what it does. */
type Ticks = Map<string, { name: string; ticks: number }>;

/**
 * Where Kafka's and Postgres's CPU goes, which V8 profiles cannot say: the broker's threads grouped
 * by what they do (request handling, the JIT compiler, the garbage collector, KRaft), and Postgres's
 * processes by role (each service's connections, the WAL writer, the checkpointer).
 */
export class CpuBreakdown {
  private constructor(
    private readonly targets: ProcessTarget[],
    private readonly first: Map<string, Ticks>,
    private readonly startedAt: number,
  ) {}

  static async start(targets: ProcessTarget[]): Promise<CpuBreakdown> {
    const watched = targets.filter((target) => target.name === 'kafka' || target.withChildren);
    return new CpuBreakdown(watched, await snapshot(watched), Date.now());
  }

  async stop(): Promise<Record<string, CpuShare[]>> {
    const last = await snapshot(this.targets);
    const seconds = (Date.now() - this.startedAt) / 1_000;
    const result: Record<string, CpuShare[]> = {};
    for (const target of this.targets) {
      result[target.name] = sharesBetween(
        this.first.get(target.name) ?? new Map(),
        last.get(target.name) ?? new Map(),
        seconds,
      );
    }
    return result;
  }
}

async function snapshot(targets: ProcessTarget[]): Promise<Map<string, Ticks>> {
  const children = targets.some((target) => target.withChildren)
    ? await childrenByParent()
    : new Map<number, number[]>();
  const result = new Map<string, Ticks>();
  for (const target of targets) {
    result.set(
      target.name,
      target.withChildren
        ? await childTicks(children.get(target.pid) ?? [])
        : await threadTicks(target.pid),
    );
  }
  return result;
}

async function threadTicks(pid: number): Promise<Ticks> {
  const ticks: Ticks = new Map();
  const threads = await readdir(`/proc/${pid}/task`).catch(() => []);
  for (const tid of threads) {
    const stat = await readStat(`${pid}/task/${tid}`);
    const comm = await readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8').catch(() => '');
    if (stat)
      ticks.set(tid, { name: describeJvmThread(comm.trim()), ticks: stat.utime + stat.stime });
  }
  return ticks;
}

async function childTicks(pids: number[]): Promise<Ticks> {
  const ticks: Ticks = new Map();
  for (const pid of pids) {
    const stat = await readStat(pid);
    const title = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (stat) {
      ticks.set(String(pid), {
        name: describePostgresProcess(title.replace(/\0/g, ' ').trim()),
        ticks: stat.utime + stat.stime,
      });
    }
  }
  return ticks;
}

/** Per name, the ticks used between the snapshots; a thread or process started since counts whole. */
export function sharesBetween(first: Ticks, last: Ticks, seconds: number): CpuShare[] {
  const byName = new Map<string, number>();
  for (const [id, { name, ticks }] of last) {
    const used = ticks - (first.get(id)?.ticks ?? 0);
    byName.set(name, (byName.get(name) ?? 0) + used);
  }
  return [...byName]
    .map(([name, ticks]) => ({
      name,
      cpuPercent: Math.round((ticks / CLOCK_TICKS / seconds) * 1_000) / 10,
    }))
    .filter((share) => share.cpuPercent > 0)
    .sort((a, b) => b.cpuPercent - a.cpuPercent);
}

/** A JVM thread's name, as /proc truncates it to 15 characters, read as what it does. */
export function describeJvmThread(comm: string): string {
  if (/^C\d CompilerThre/.test(comm)) return 'JIT compiler';
  if (/^(GC Thread|G1 )/.test(comm)) return 'garbage collector';
  if (comm.startsWith('data-plane-kafk')) return 'client requests (network and handler threads)';
  if (
    /^(kafka-\d+-raft|quorum-control|raft-|controller-|broker-\d+-to-c|kafka-\d+-metad)/.test(comm)
  )
    return 'KRaft metadata and controller';
  return comm.replace(/\d+/g, '#');
}

/** A Postgres process title (`postgres: order_service bench 127.0.0.1(5432) idle`) read as its role. */
export function describePostgresProcess(title: string): string {
  // A cluster name, when set, comes first: `postgres: 15/main: checkpointer`.
  const role = title.replace(/^postgres: (?:[^:\s]+: )?/, '');
  const backend = /^(\S+) \S+ (?:\S+\(\d+\)|\[local\])/.exec(role);
  if (backend) return `${backend[1]} connections`;
  return role.trim() || 'postmaster';
}
