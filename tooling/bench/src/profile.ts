import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';

/** A V8 CPU profile, as the inspector's Profiler.stop returns it (the .cpuprofile format). */
interface CpuProfile {
  nodes: Array<{
    id: number;
    hitCount?: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileShare {
  name: string;
  /** % of the process's busy (non-idle) samples spent in it (self time). */
  percent: number;
}

export interface ServiceProfile {
  files: string[];
  busySeconds: number;
  byPackage: ProfileShare[];
  byFunction: ProfileShare[];
}

export interface StatementProfile {
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  percent: number;
}

/** Self time per package and per function of every profile in `<dir>/<service>/`. */
export async function summariseCpuProfiles(dir: string): Promise<Record<string, ServiceProfile>> {
  const result: Record<string, ServiceProfile> = {};
  for (const service of await readdir(dir).catch(() => [])) {
    const files = (await readdir(join(dir, service)).catch(() => [])).filter((file) =>
      file.endsWith('.cpuprofile'),
    );
    if (files.length === 0) continue;
    const byPackage = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let busy = 0;
    let busyUs = 0;
    for (const file of files) {
      const profile = JSON.parse(await readFile(join(dir, service, file), 'utf8')) as CpuProfile;
      const usPerSample =
        profile.samples.length > 0
          ? (profile.endTime - profile.startTime) / profile.samples.length
          : 0;
      for (const node of profile.nodes) {
        const hits = node.hitCount ?? 0;
        if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
        const where = packageOf(node.callFrame.url, node.callFrame.functionName);
        busy += hits;
        busyUs += hits * usPerSample;
        byPackage.set(where, (byPackage.get(where) ?? 0) + hits);
        const fn = `${node.callFrame.functionName || '(anonymous)'} (${where})`;
        byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
      }
    }
    result[service] = {
      files,
      busySeconds: Math.round(busyUs / 1e5) / 10,
      byPackage: top(byPackage, busy, 12),
      byFunction: top(byFunction, busy, 15),
    };
  }
  return result;
}

/** node_modules/<pkg> (pnpm's nested layout too), our workspace packages, or node's own code. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (built-in)';
  const modules = url.split('/node_modules/');
  if (modules.length > 1) {
    const rest = (modules.at(-1) ?? '').split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const workspace = /\/(apps|packages)\/([^/]+)\//.exec(url);
  return workspace ? `${workspace[1]}/${workspace[2]}` : url;
}

function top(counts: Map<string, number>, total: number, limit: number): ProfileShare[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, hits]) => ({
      name,
      percent: Math.round((1_000 * hits) / Math.max(1, total)) / 10,
    }));
}

/** The statements that took the most database time (pg_stat_statements must be loaded). */
export async function topStatements(client: Client, limit = 12): Promise<StatementProfile[]> {
  const { rows } = await client.query<{
    query: string;
    calls: string;
    total: number;
    mean: number;
    share: number;
  }>(
    `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls,
            total_exec_time AS total, mean_exec_time AS mean,
            100 * total_exec_time / NULLIF(sum(total_exec_time) OVER (), 0) AS share
       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    query: row.query.length > 160 ? `${row.query.slice(0, 157)}...` : row.query,
    calls: Number(row.calls),
    totalMs: Math.round(row.total),
    meanMs: Math.round(row.mean * 1_000) / 1_000,
    percent: Math.round(row.share * 10) / 10,
  }));
}

export async function resetStatements(client: Client): Promise<void> {
  await client.query('SELECT pg_stat_statements_reset()');
}
