import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  kafka: string;
  postgres: string;
  /** 1, 5 and 15 minute load averages when the bench started: anything well above 0 is a busy machine. */
  loadAverageAtStart: number[];
}

export async function describeMachine(versions: {
  kafka: string;
  postgres: string;
}): Promise<MachineInfo> {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: await distribution(),
    kernel: `${type()} ${release()}`,
    node: process.version,
    kafka: versions.kafka,
    postgres: versions.postgres,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

async function distribution(): Promise<string> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
