import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { ConsumerLagProbe } from './consumer-lag';
import { calibrate, type Calibration } from './calibration';
import { startBenchEnvironment, type BenchEnvironment } from './environment';
import { loadAgent, type LoadProgress } from './load-generator';
import { describeMachine } from './machine';
import {
  DEFAULT_MAIL,
  estimateSeconds,
  fixedSteps,
  nextSearchRate,
  isStandard,
  outcomesByRate,
  searchStep,
  slowSmtpSteps,
  sustainedRate,
  type PlanOptions,
  type StepSpec,
} from './plan';
import { CpuBreakdown, type CpuShare } from './cpu-breakdown';
import { resetStatements, summariseCpuProfiles, topStatements } from './profile';
import {
  isSystemProcess,
  seedClaim,
  summarise,
  sustainedHistory,
  targets,
  type BenchReport,
} from './report';
import { ResourceSampler } from './resources';
import { runStep, type Criteria, type StepContext, type StepResult } from './step';

export interface BenchOptions extends PlanOptions {
  /** Unmeasured load first, so JIT, pools and consumer fetch sizes have settled. */
  warmupS: number;
  products: number;
  durable: boolean;
  kafkaBrokers?: string;
  kafkaPid?: number;
  adminDatabaseUrl?: string;
  /** CPU profiles of the services and pg_stat_statements, summarised into the report. */
  profile: boolean;
  /** Runs the flow console too, with one map page's live stream open. */
  withConsole: boolean;
  /** Services trace every order into a sink that counts the spans. */
  tracing: boolean;
  criteria: Criteria;
  /** Logs (and, with profile, CPU profiles) go here. */
  workDir: string;
  /** The command line, recorded in the report. */
  command: string;
}

export interface BenchHooks {
  say(line: string): void;
  onStepStart?(index: number, spec: StepSpec): void;
  onProgress?(spec: StepSpec, progress: LoadProgress & { lag: number | null }): void;
  onStepDone?(result: StepResult): void;
}

const WARMUP_RATE = 50;
const RESTART_WARMUP_S = 10;

/** Starts the system, runs the plan (fixed rates, slow SMTP, search), stops it, returns the report. */
export async function runBenchmark(options: BenchOptions, hooks: BenchHooks): Promise<BenchReport> {
  const startedAt = new Date();
  hooks.say(
    `expected duration: about ${Math.ceil(estimateSeconds(options, options.warmupS) / 60)} min`,
  );
  const cpuProfileDir = options.profile ? join(options.workDir, 'cpu-profiles') : undefined;
  const environment = await startBenchEnvironment({
    ...(options.kafkaBrokers ? { kafkaBrokers: options.kafkaBrokers } : {}),
    ...(options.kafkaPid ? { kafkaPid: options.kafkaPid } : {}),
    ...(options.adminDatabaseUrl ? { adminDatabaseUrl: options.adminDatabaseUrl } : {}),
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    durable: options.durable,
    products: options.products,
    pgStatStatements: options.profile,
    withConsole: options.withConsole,
    tracing: options.tracing,
    workDir: options.workDir,
    say: hooks.say,
  });
  const client = new Client({ connectionString: environment.databaseUrl });
  let lag: ConsumerLagProbe | undefined;
  const results: StepResult[] = [];
  let statements: Awaited<ReturnType<typeof topStatements>> = [];
  let cpu: Record<string, CpuShare[]> = {};
  const agent = loadAgent();
  let calibration: Calibration | null = null;
  try {
    await client.connect();
    lag = await ConsumerLagProbe.connect(environment.brokers, environment.consumerGroups);
    hooks.say('calibrating: a bare HTTP answer, a one-row commit, a Kafka round trip');
    calibration = await calibrate(environment.brokers, environment.databaseUrl);
    hooks.say(
      `calibration: ${calibration.httpCpuUsPerAnswer} µs CPU per HTTP answer, ` +
        `${calibration.pgCommitsPerSecond} commits/s, Kafka round trip ${calibration.kafkaRoundTripMsP50} ms`,
    );
    const context: StepContext = {
      environment,
      client,
      lag,
      sampler: new ResourceSampler(environment.processes),
      agent,
      bodies: {
        spread: buildBodies(environment.skus),
        oneSku: buildBodies(environment.skus.slice(0, 1)),
      },
      criteria: options.criteria,
      say: hooks.say,
    };
    let index = 0;
    const warmUp = (mail: StepSpec['mail'], durationS: number): StepSpec => {
      const rate = Math.min(WARMUP_RATE, ...options.rates);
      return { ...searchStep(rate, options), label: 'warm-up', durationS, mail };
    };
    const run = async (spec: StepSpec, measured = true): Promise<StepResult> => {
      // A restarted notification service is as cold as the first start: warm it up again (Node
      // warms within seconds; the broker, which stays up, needs no second minute).
      const restarted = measured && (await environment.configureMail(spec.mail));
      if (restarted && options.warmupS > 0) {
        await run(warmUp(spec.mail, Math.min(options.warmupS, RESTART_WARMUP_S)), false);
      }
      index += measured ? 1 : 0;
      hooks.onStepStart?.(measured ? index : 0, spec);
      const result = await runStep(spec, {
        ...context,
        ...(hooks.onProgress
          ? { onProgress: (progress) => hooks.onProgress?.(spec, progress) }
          : {}),
      });
      if (measured) {
        results.push(result);
        hooks.onStepDone?.(result);
      }
      return result;
    };

    if (options.warmupS > 0) {
      // Warm pools and JIT at a rate every configuration sustains: cold services answer the
      // first burst slowly (new database connections), and a fresh broker's JIT compiler takes
      // 10-20 % of a core for its first minute under load, which is not what a step should measure.
      await run(warmUp(DEFAULT_MAIL, options.warmupS), false);
    }
    if (environment.settings.pgStatStatements) await resetStatements(client);
    environment.startProfiling();
    const breakdown = options.profile ? await CpuBreakdown.start(environment.processes()) : null;
    for (const spec of fixedSteps(options)) await run(spec);
    for (const spec of slowSmtpSteps(options)) await run(spec);
    if (options.search) await search(options, results, run);
    if (breakdown) cpu = await breakdown.stop();
    if (environment.settings.pgStatStatements) statements = await topStatements(client);
  } finally {
    agent.destroy();
    await lag?.close().catch(() => undefined);
    await client.end().catch(() => undefined);
    await environment.stop();
  }

  return buildReport(options, environment, results, startedAt, calibration, {
    services: cpuProfileDir ? await summariseCpuProfiles(cpuProfileDir) : {},
    statements,
    cpu,
  });
}

/** Steps up (or down) from the fixed rates, bisects, then repeats the best rate to `runs` runs. */
async function search(
  options: BenchOptions,
  results: StepResult[],
  run: (spec: StepSpec) => Promise<StepResult>,
): Promise<void> {
  const outcomes = (): Map<number, boolean> =>
    outcomesByRate(
      results.map((result) => ({
        rate: result.rate,
        smtpDelayMs: result.smtpDelayMs,
        oneSku: result.oneSku,
        sustained: result.verdict.sustained,
      })),
    );
  for (let tried = 0; tried < options.searchSteps; tried += 1) {
    const rate = nextSearchRate(outcomes(), options);
    if (rate === undefined) break;
    await run(searchStep(rate, options));
  }
  // The best rate found so far, repeated until it has `runs` runs; a failure moves to the next best.
  for (let confirmations = 0; confirmations < options.runs * 2; confirmations += 1) {
    const passing = [...outcomes()].filter(([, pass]) => pass).map(([rate]) => rate);
    if (passing.length === 0) return;
    const best = Math.max(...passing);
    const done = results.filter((result) => result.rate === best && isStandard(result));
    if (done.length >= options.runs) return;
    await run(searchStep(best, options, 'confirm'));
  }
}

async function buildReport(
  options: BenchOptions,
  environment: BenchEnvironment,
  results: StepResult[],
  startedAt: Date,
  calibration: Calibration | null,
  profile: NonNullable<BenchReport['profile']>,
): Promise<BenchReport> {
  const summary = summarise(results);
  const runs = results.map((result) => ({
    rate: result.rate,
    smtpDelayMs: result.smtpDelayMs,
    oneSku: result.oneSku,
    sustained: result.verdict.sustained,
  }));
  const rate = sustainedRate(runs, options.runs) ?? null;
  const slow =
    options.smtpDelayMs > 0 ? { rate: options.slowRate, delayMs: options.smtpDelayMs } : null;
  return {
    tool: '@shop/bench',
    command: options.command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: await describeMachine(environment.versions),
    settings: {
      durationS: options.durationS,
      runs: options.runs,
      warmupS: options.warmupS,
      products: options.products,
      durable: environment.settings.durable,
      ownKafka: environment.settings.ownKafka,
      ownPostgres: environment.settings.ownPostgres,
      tracing: environment.settings.tracing,
      spansExported: environment.spansExported(),
      criteria: options.criteria,
      slowSmtp: slow ? { ...slow, mailConcurrency: options.slowMailConcurrency } : null,
      logs: options.workDir,
    },
    steps: results,
    summary,
    sustained: { rate, requiredRuns: options.runs, history: sustainedHistory(summary) },
    seedClaim: seedClaim(summary, slow),
    targets: targets(summary, rate),
    calibration,
    profile:
      Object.keys(profile.services).length > 0 || profile.statements.length > 0 ? profile : null,
  };
}

/**
 * A thousand distinct orders, one line each, spread over the seeded products: built once, so the
 * generator spends nothing on serialising while it runs.
 */
function buildBodies(skus: readonly string[]): Buffer[] {
  return Array.from({ length: 1_000 }, (_, index) =>
    Buffer.from(JSON.stringify({ items: [{ sku: skus[index % skus.length], quantity: 1 }] })),
  );
}

/** CPU of every process of the system while nothing happens: what an idle stack costs. */
export interface IdleReport {
  seconds: number;
  processes: Record<string, number | null>;
  /** The system under test (not the bench itself), in % of one core. */
  totalPercent: number;
}

/** Starts the system, lets it settle, then samples its CPU for `seconds` with no load at all. */
export async function measureIdle(
  options: BenchOptions,
  seconds: number,
  hooks: Pick<BenchHooks, 'say'>,
): Promise<IdleReport> {
  const environment = await startBenchEnvironment({
    ...(options.kafkaBrokers ? { kafkaBrokers: options.kafkaBrokers } : {}),
    ...(options.kafkaPid ? { kafkaPid: options.kafkaPid } : {}),
    ...(options.adminDatabaseUrl ? { adminDatabaseUrl: options.adminDatabaseUrl } : {}),
    durable: options.durable,
    products: options.products,
    pgStatStatements: false,
    withConsole: options.withConsole,
    tracing: options.tracing,
    workDir: options.workDir,
    say: hooks.say,
  });
  try {
    hooks.say(`settling for ${IDLE_SETTLE_S} s, then sampling ${seconds} s with no load`);
    await sleep(IDLE_SETTLE_S * 1_000);
    const sampler = new ResourceSampler(environment.processes);
    sampler.start();
    await sleep(seconds * 1_000);
    const usage = await sampler.stop();
    const processes = Object.fromEntries(
      Object.entries(usage.processes).map(([name, figures]) => [name, figures.cpuPercent]),
    );
    const totalPercent = Object.entries(processes)
      .filter(([name]) => isSystemProcess(name))
      .reduce((sum, [, percent]) => sum + (percent ?? 0), 0);
    return { seconds, processes, totalPercent: Math.round(totalPercent * 10) / 10 };
  } finally {
    await environment.stop();
  }
}

const IDLE_SETTLE_S = 15;
