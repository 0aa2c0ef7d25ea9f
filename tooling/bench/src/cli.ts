#!/usr/bin/env node
/**
 * `pnpm bench`: open-loop load on POST /orders at fixed rates, a slow-SMTP step, and a search for
 * the highest sustained rate; writes a JSON report and prints a markdown summary.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findRepoRoot } from '@shop/devstack';
import { measureIdle, runBenchmark, type BenchOptions } from './benchmark';
import type { StepSpec } from './plan';
import { formatNumber, renderMarkdown, type BenchReport } from './report';
import type { StepResult } from './step';

const USAGE = `usage: pnpm bench [options]   (or: node tooling/bench/dist/cli.js [options])

  --rates 50,200,400        fixed arrival rates (orders/s), each run --runs times
  --duration 60             seconds of load per step (the sustained figure needs >= 60)
  --runs 3                  runs per figure; each figure is their median with min-max
  --warmup 60               seconds of unmeasured load first (50/s, or the lowest rate): until the
                            broker's JIT compiler settles
  --smtp-delay-ms 300       the slow-mail step: SMTP answers this late (0 skips the step)
  --slow-rate 200           arrival rate of the slow-mail step
  --slow-mail-concurrency 128 MAIL_CONCURRENCY during the slow-mail step
  --one-sku-rates 200       rates run with every order on one product (a flash sale); '' for none
  --no-search               skip the search for the highest sustained rate
  --search-steps 4          at most this many search steps (then the best is repeated to --runs)
  --p99-bound-ms 1000       processed p99 above this: the rate is not sustained
  --drain-timeout 30        seconds after the last request by which every order must be processed
  --products 50             products the orders are spread over (ample stock each)
  --no-fsync                Postgres without fsync (default: durable, like pnpm stack)
  --idle 30                 no load: start the system, let it settle, report each process's CPU
                            over this many seconds (with --with-console: the console too)
  --with-console            also run the flow console, with one map page open (its live stream),
                            to see what watching the system costs
  --tracing                 the services trace every order (OpenTelemetry, Zipkin JSON to a sink
                            in the bench process), to see what tracing costs
  --profile                 V8 CPU profiles of the services and pg_stat_statements, summarised
  --kafka host:port         use this broker (its order/inventory topics are recreated empty)
  --database-url url        use this Postgres (superuser URL); a throwaway database is created
  --out file.json           default bench-results/<timestamp>.json
  --update-docs             write the markdown summary into docs/BENCHMARKS.md
  --quick                   a two-minute check: 50 and 100/s (and 50/s on one SKU) for 5 s, slow mail at 50/s, one run,
                            no search
`;

interface CliOptions {
  bench: BenchOptions;
  /** Seconds of the idle measurement, instead of the plan. */
  idleS: number | undefined;
  out: string;
  updateDocs: boolean;
}

function parseCli(argv: string[], repoRoot: string): CliOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string' },
      duration: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'smtp-delay-ms': { type: 'string' },
      'slow-rate': { type: 'string' },
      'slow-mail-concurrency': { type: 'string' },
      'one-sku-rates': { type: 'string' },
      search: { type: 'boolean' },
      'no-search': { type: 'boolean' },
      'search-steps': { type: 'string' },
      'p99-bound-ms': { type: 'string' },
      'drain-timeout': { type: 'string' },
      products: { type: 'string' },
      'no-fsync': { type: 'boolean' },
      profile: { type: 'boolean' },
      'with-console': { type: 'boolean' },
      tracing: { type: 'boolean' },
      idle: { type: 'string' },
      kafka: { type: 'string' },
      'database-url': { type: 'string' },
      out: { type: 'string' },
      'update-docs': { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const quick = values.quick === true;
  const number = (name: string, raw: string | undefined, fallback: number, min = 0): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min)
      throw new Error(`--${name} ${raw}: expected a number ≥ ${min}`);
    return value;
  };
  const rates = (values.rates ?? (quick ? '50,100' : '50,200,400'))
    .split(',')
    .map((rate) => number('rates', rate.trim(), 0, 1));
  const durationS = number('duration', values.duration, quick ? 5 : 60, 1);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    out: resolve(values.out ?? join(repoRoot, 'bench-results', `${stamp}.json`)),
    updateDocs: values['update-docs'] === true,
    idleS: values.idle === undefined ? undefined : number('idle', values.idle, 30, 5),
    bench: {
      rates,
      durationS,
      runs: number('runs', values.runs, quick ? 1 : 3, 1),
      warmupS: number('warmup', values.warmup, quick ? 3 : 60),
      smtpDelayMs: number('smtp-delay-ms', values['smtp-delay-ms'], 300),
      slowRate: number('slow-rate', values['slow-rate'], quick ? 50 : 200, 1),
      slowMailConcurrency: number('slow-mail-concurrency', values['slow-mail-concurrency'], 128, 1),
      oneSkuRates: (values['one-sku-rates'] ?? (quick ? '50' : '200'))
        .split(',')
        .filter((rate) => rate.trim() !== '')
        .map((rate) => number('one-sku-rates', rate.trim(), 0, 1)),
      search: values['no-search'] ? false : values.search === true || !quick,
      searchSteps: number('search-steps', values['search-steps'], 4),
      searchFactor: 1.5,
      searchResolution: 0.1,
      products: number('products', values.products, 50, 1),
      durable: values['no-fsync'] !== true,
      profile: values.profile === true,
      withConsole: values['with-console'] === true,
      tracing: values.tracing === true,
      ...(values.kafka ? { kafkaBrokers: values.kafka } : {}),
      ...(values['database-url'] ? { adminDatabaseUrl: values['database-url'] } : {}),
      criteria: {
        p99BoundMs: number('p99-bound-ms', values['p99-bound-ms'], 1_000, 1),
        drainTimeoutMs: number('drain-timeout', values['drain-timeout'], 30, 1) * 1_000,
        maxLagSeconds: 1,
        abortLagSeconds: 10,
      },
      workDir: '',
      command: ['pnpm bench', ...argv].join(' '),
    },
  };
}

const isTty = Boolean(process.stdout.isTTY);

function say(line: string): void {
  if (isTty) process.stdout.write('\r\u001b[K');
  process.stdout.write(`[bench] ${line}\n`);
}

const benchStartedAt = Date.now();

function clock(ms: number): string {
  const seconds = Math.floor(ms / 1_000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function progressLine(
  index: number,
  spec: StepSpec,
  progress: { elapsedMs: number; sent: number; errors: number; lag: number | null },
): string {
  const step = index === 0 ? 'warm-up' : `step ${index} ${spec.label} (${spec.kind})`;
  const elapsed = Math.min(spec.durationS, Math.floor(progress.elapsedMs / 1_000));
  return (
    `${clock(Date.now() - benchStartedAt)} ${step} ${elapsed}/${spec.durationS} s` +
    ` · sent ${progress.sent} · errors ${progress.errors} · consumer lag ${progress.lag ?? '…'}`
  );
}

function stepLine(result: StepResult): string {
  const { latencyMs: l, processed, verdict } = result;
  return (
    `${result.label}: accepted p99 ${formatNumber(l.accepted.p99)} ms · CONFIRMED p99 ` +
    `${formatNumber(l.confirmed.p99)} ms · email p99 ${formatNumber(l.email.p99)} ms · ` +
    `drained in ${formatNumber(processed.drainMs === null ? null : processed.drainMs / 1_000)} s · ` +
    (verdict.sustained ? 'sustained' : `NOT sustained: ${verdict.reasons.join('; ')}`)
  );
}

const DOCS_START = '<!-- bench:results:start -->';
const DOCS_END = '<!-- bench:results:end -->';

async function updateDocs(repoRoot: string, markdown: string, jsonPath: string): Promise<void> {
  const file = join(repoRoot, 'docs', 'BENCHMARKS.md');
  const text = await readFile(file, 'utf8');
  const start = text.indexOf(DOCS_START);
  const end = text.indexOf(DOCS_END);
  if (start < 0 || end < start)
    throw new Error(`${file} has no ${DOCS_START} … ${DOCS_END} section`);
  const body = `${DOCS_START}\n\n${markdown}\nFull results: \`${relative(repoRoot, jsonPath)}\`.\n\n${DOCS_END}`;
  await writeFile(file, text.slice(0, start) + body + text.slice(end + DOCS_END.length));
  say(`docs/BENCHMARKS.md updated`);
}

async function main(): Promise<number> {
  const repoRoot = findRepoRoot();
  const cli = parseCli(process.argv.slice(2), repoRoot);
  if (!cli) {
    process.stdout.write(USAGE);
    return 0;
  }
  const workDir = await mkdtemp(join(tmpdir(), 'shop-bench-'));
  // Under root, Postgres runs as the OS user "postgres", which must be able to enter this folder.
  await chmod(workDir, 0o755);
  cli.bench.workDir = workDir;
  say(`logs in ${workDir}`);

  if (cli.idleS !== undefined) return idle(cli, workDir);

  const done: StepResult[] = [];
  let lastPrint = 0;
  let stepIndex = 0;
  let report: BenchReport;
  try {
    report = await runBenchmark(cli.bench, {
      say,
      onStepStart: (index, spec) => {
        stepIndex = index;
        say(
          index === 0
            ? `warm-up: ${spec.rate}/s for ${spec.durationS} s`
            : `step ${index}: ${spec.label} (${spec.kind}) for ${spec.durationS} s`,
        );
      },
      onProgress: (spec, progress) => {
        const line = progressLine(stepIndex, spec, progress);
        if (isTty) process.stdout.write(`\r\u001b[K[bench] ${line}`);
        else if (Date.now() - lastPrint >= 10_000) {
          lastPrint = Date.now();
          process.stdout.write(`[bench] ${line}\n`);
        }
      },
      onStepDone: (result) => {
        done.push(result);
        say(stepLine(result));
      },
    });
  } catch (error) {
    const partial = cli.out.replace(/\.json$/, '.partial.json');
    await mkdir(dirname(partial), { recursive: true });
    await writeFile(
      partial,
      `${JSON.stringify({ command: cli.bench.command, steps: done }, null, 2)}\n`,
    );
    say(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    say(`steps finished so far: ${partial}; logs kept in ${workDir}`);
    return 1;
  }

  await mkdir(dirname(cli.out), { recursive: true });
  await writeFile(cli.out, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}\n`);
  say(`results: ${cli.out}`);
  if (cli.updateDocs) await updateDocs(repoRoot, markdown, cli.out);
  // Data directories are large and worthless now; logs (and CPU profiles) stay for a look.
  await Promise.all(
    ['kafka', 'kafka-config', 'postgres'].map((dir) =>
      rm(join(workDir, dir), { recursive: true, force: true }),
    ),
  );
  say(`logs${cli.bench.profile ? ' and CPU profiles' : ''} kept in ${workDir}`);
  return 0;
}

async function idle(cli: CliOptions, workDir: string): Promise<number> {
  const report = await measureIdle(cli.bench, cli.idleS ?? 30, { say });
  const lines = [
    `Idle for ${report.seconds} s (\`${cli.bench.command}\`), CPU in % of one core:`,
    '',
    '| Process | CPU |',
    '| --- | --- |',
    ...Object.entries(report.processes).map(
      ([name, percent]) => `| ${name} | ${percent === null ? '–' : `${formatNumber(percent)} %`} |`,
    ),
    `| **the system (without the bench's own processes)** | **${formatNumber(report.totalPercent)} %** |`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  await mkdir(dirname(cli.out), { recursive: true });
  await writeFile(
    cli.out,
    `${JSON.stringify({ command: cli.bench.command, idle: report }, null, 2)}\n`,
  );
  say(`results: ${cli.out}; logs kept in ${workDir}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
