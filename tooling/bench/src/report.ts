import type { Calibration } from './calibration';
import type { MachineInfo } from './machine';
import { isStandard } from './plan';
import type { CpuShare } from './cpu-breakdown';
import type { ServiceProfile, StatementProfile } from './profile';
import { STAGES } from './stages';
import { spread, type Distribution, type Spread } from './stats';
import type { Criteria, StepResult } from './step';

type Percentiles = Record<'p50' | 'p90' | 'p99' | 'max', Spread>;

/** One label's runs, each figure as the median of the runs with its min–max. */
export interface LabelSummary {
  label: string;
  rate: number;
  smtpDelayMs: number;
  oneSku: boolean;
  kinds: string[];
  runs: number;
  sustainedRuns: number;
  failures: string[];
  achievedRate: Spread;
  latencyMs: { accepted: Percentiles; confirmed: Percentiles; email: Percentiles };
  stagesMs: Record<string, { p50: Spread; p99: Spread }>;
  resources: Record<string, { cpuPercent: Spread; rssMb: Spread }>;
  systemBusyPercent: Spread;
  stealPercent: Spread;
  lagPeakSecondHalf: Spread;
  drainMs: Spread;
}

export interface Target {
  name: string;
  goal: string;
  /** Median of the runs, with the spread; for throughput the rate itself. */
  measured: string;
  met: boolean | null;
}

export interface BenchReport {
  tool: '@shop/bench';
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  settings: {
    durationS: number;
    runs: number;
    warmupS: number;
    products: number;
    durable: boolean;
    ownKafka: boolean;
    ownPostgres: boolean;
    /** Tracing on, and the spans the services exported over the whole run. */
    tracing: boolean;
    spansExported: number;
    criteria: Criteria;
    slowSmtp: { delayMs: number; rate: number; mailConcurrency: number } | null;
    logs: string;
  };
  steps: StepResult[];
  summary: LabelSummary[];
  sustained: {
    rate: number | null;
    requiredRuns: number;
    history: Array<{ rate: number; runs: number; sustained: number; reason: string | null }>;
  };
  seedClaim: {
    fast: string;
    slow: string;
    acceptedP50Ms: { fast: number | null; slow: number | null };
    acceptedP99Ms: { fast: number | null; slow: number | null };
    emailP50Ms: number | null;
    emailP99Ms: number | null;
    /** Email p50 ÷ accepted p50 at the slow SMTP: how much longer a synchronous answer would take. */
    ratioP50: number | null;
    ratioP99: number | null;
  } | null;
  targets: Target[];
  /** This machine today, measured in the same run: compare figures of different days by ratio. */
  calibration: Calibration | null;
  profile: {
    services: Record<string, ServiceProfile>;
    statements: StatementProfile[];
    /** Kafka's threads and Postgres's processes by what they do, over the measured steps. */
    cpu: Record<string, CpuShare[]>;
  } | null;
}

export function summarise(steps: StepResult[]): LabelSummary[] {
  const labels = new Map<string, StepResult[]>();
  for (const step of steps) labels.set(step.label, [...(labels.get(step.label) ?? []), step]);
  return [...labels.values()]
    .map((runs) => summariseLabel(runs))
    .sort(
      (a, b) =>
        a.smtpDelayMs - b.smtpDelayMs || Number(a.oneSku) - Number(b.oneSku) || a.rate - b.rate,
    );
}

function summariseLabel(runs: StepResult[]): LabelSummary {
  const first = runs[0] as StepResult;
  const of = (pick: (run: StepResult) => number | null | undefined): Spread =>
    spread(runs.map((run) => pick(run) ?? null));
  const percentiles = (pick: (run: StepResult) => Distribution): Percentiles => ({
    p50: of((run) => pick(run).p50),
    p90: of((run) => pick(run).p90),
    p99: of((run) => pick(run).p99),
    max: of((run) => pick(run).max),
  });
  const processes = [...new Set(runs.flatMap((run) => Object.keys(run.resources.processes)))];
  return {
    label: first.label,
    rate: first.rate,
    smtpDelayMs: first.smtpDelayMs,
    oneSku: first.oneSku,
    kinds: [...new Set(runs.map((run) => run.kind))],
    runs: runs.length,
    sustainedRuns: runs.filter((run) => run.verdict.sustained).length,
    failures: [...new Set(runs.flatMap((run) => run.verdict.reasons))],
    achievedRate: of((run) => run.requests.achievedRate),
    latencyMs: {
      accepted: percentiles((run) => run.latencyMs.accepted),
      confirmed: percentiles((run) => run.latencyMs.confirmed),
      email: percentiles((run) => run.latencyMs.email),
    },
    stagesMs: Object.fromEntries(
      STAGES.map((stage) => [
        stage.name,
        {
          p50: of((run) => run.stagesMs[stage.name]?.p50),
          p99: of((run) => run.stagesMs[stage.name]?.p99),
        },
      ]),
    ),
    resources: Object.fromEntries(
      processes.map((name) => [
        name,
        {
          cpuPercent: of((run) => run.resources.processes[name]?.cpuPercent),
          rssMb: of((run) => run.resources.processes[name]?.rssMb),
        },
      ]),
    ),
    systemBusyPercent: of((run) => run.resources.system.busyPercent),
    stealPercent: of((run) => run.resources.system.stealPercent),
    lagPeakSecondHalf: of((run) => run.lag.peakSecondHalf),
    drainMs: of((run) => run.processed.drainMs),
  };
}

export function sustainedHistory(summary: LabelSummary[]): BenchReport['sustained']['history'] {
  return summary
    .filter((label) => isStandard(label))
    .map((label) => ({
      rate: label.rate,
      runs: label.runs,
      sustained: label.sustainedRuns,
      reason: label.failures[0] ?? null,
    }));
}

export function seedClaim(
  summary: LabelSummary[],
  slow: { rate: number; delayMs: number } | null,
): BenchReport['seedClaim'] {
  if (!slow) return null;
  const fast = summary.find((label) => label.rate === slow.rate && isStandard(label));
  const slowLabel = summary.find(
    (label) => label.rate === slow.rate && label.smtpDelayMs === slow.delayMs,
  );
  if (!slowLabel) return null;
  const ratio = (a: number | null, b: number | null): number | null =>
    a !== null && b !== null && b > 0 ? Math.round((a / b) * 10) / 10 : null;
  const emailP50 = slowLabel.latencyMs.email.p50.median;
  const emailP99 = slowLabel.latencyMs.email.p99.median;
  return {
    fast: fast?.label ?? '(not run)',
    slow: slowLabel.label,
    acceptedP50Ms: {
      fast: fast?.latencyMs.accepted.p50.median ?? null,
      slow: slowLabel.latencyMs.accepted.p50.median,
    },
    acceptedP99Ms: {
      fast: fast?.latencyMs.accepted.p99.median ?? null,
      slow: slowLabel.latencyMs.accepted.p99.median,
    },
    emailP50Ms: emailP50,
    emailP99Ms: emailP99,
    ratioP50: ratio(emailP50, slowLabel.latencyMs.accepted.p50.median),
    ratioP99: ratio(emailP99, slowLabel.latencyMs.accepted.p99.median),
  };
}

/** The issue's targets for this machine. */
export function targets(summary: LabelSummary[], sustainedRate: number | null): Target[] {
  const at200 = summary.find((label) => label.rate === 200 && isStandard(label));
  const acceptedP99 = at200?.latencyMs.accepted.p99;
  const confirmedP99 = at200?.latencyMs.confirmed.p99;
  return [
    {
      name: 'accepted p99 at 200/s',
      goal: '≤ 10 ms',
      measured: acceptedP99 ? `${formatSpread(acceptedP99)} ms` : 'not run',
      met: acceptedP99?.median == null ? null : acceptedP99.median <= 10,
    },
    {
      name: 'placed → CONFIRMED p99 at 200/s',
      goal: '≤ 50 ms',
      measured: confirmedP99 ? `${formatSpread(confirmedP99)} ms` : 'not run',
      met: confirmedP99?.median == null ? null : confirmedP99.median <= 50,
    },
    {
      name: 'sustained, fully processed',
      goal: '≥ 1,000 orders/s',
      measured: sustainedRate === null ? 'none found' : `${sustainedRate} orders/s`,
      met: sustainedRate === null ? null : sustainedRate >= 1_000,
    },
  ];
}

// ---------------------------------------------------------------- markdown

export function formatNumber(value: number | null): string {
  if (value === null) return '–';
  if (Math.abs(value) >= 100) return String(Math.round(value));
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** "8.1 (7.9–8.4)": the median of the runs and their range; just the value for one run. */
export function formatSpread(value: Spread): string {
  if (value.median === null) return '–';
  const present = value.runs.filter((run) => run !== null).length;
  if (present <= 1 || value.min === value.max) return formatNumber(value.median);
  return `${formatNumber(value.median)} (${formatNumber(value.min)}–${formatNumber(value.max)})`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function latencyTable(summary: LabelSummary[], pick: (label: LabelSummary) => Percentiles): string {
  return table(
    ['Step', 'Runs', 'p50', 'p90', 'p99', 'max'],
    summary.map((label) => {
      const figures = pick(label);
      return [
        label.label,
        String(label.runs),
        formatSpread(figures.p50),
        formatSpread(figures.p90),
        formatSpread(figures.p99),
        formatSpread(figures.max),
      ];
    }),
  );
}

export function renderMarkdown(report: BenchReport): string {
  const { machine, settings, summary } = report;
  const out: string[] = [];
  out.push(
    `Measured ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${machine.cores} cores ` +
      `(${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}, ` +
      `Kafka ${machine.kafka}, PostgreSQL ${machine.postgres} (fsync ${settings.durable ? 'on' : 'off'}). ` +
      `Tracing ${settings.tracing ? `on (${settings.spansExported} spans exported)` : 'off'}. ` +
      `Load average at start: ${machine.loadAverageAtStart.join(', ')}.`,
    '',
    `Command: \`${report.command}\`. Steps of ${settings.durationS} s; each figure is the median of ` +
      `the runs with the range (min–max) in brackets; latencies in ms from the moment each request ` +
      `was due (open loop).`,
    '',
    '**Targets**',
    '',
    table(
      ['Target', 'Goal', 'Measured', 'Met'],
      report.targets.map((target) => [
        target.name,
        target.goal,
        target.measured,
        target.met === null ? '–' : target.met ? 'yes' : '**no**',
      ]),
    ),
    '',
    ...calibrationLines(report),
    '**Accepted** (request due → 202 received)',
    '',
    latencyTable(summary, (label) => label.latencyMs.accepted),
    '',
    '**Processed: CONFIRMED** (request due → `orders.updated_at` of the CONFIRMED row)',
    '',
    latencyTable(summary, (label) => label.latencyMs.confirmed),
    '',
    '**Processed: email** (request due → the SMTP server accepted the confirmation email)',
    '',
    latencyTable(summary, (label) => label.latencyMs.email),
    '',
  );

  out.push(
    `**Sustained throughput**: ${report.sustained.rate === null ? 'no rate was sustained' : `${report.sustained.rate} orders/s`} ` +
      `(highest rate with ${report.sustained.requiredRuns} runs, every one sustained: all orders ` +
      `accepted and processed within ${settings.criteria.drainTimeoutMs / 1_000} s of the last ` +
      `request, processed p99 ≤ ${settings.criteria.p99BoundMs} ms, consumer lag in the second half ` +
      `≤ ${settings.criteria.maxLagSeconds} s of arrivals).`,
    '',
    table(
      ['Rate (/s)', 'Achieved (/s)', 'Runs', 'Sustained', 'Drain (ms)', 'Peak lag', 'Why not'],
      summary
        .filter((label) => isStandard(label))
        .map((label) => [
          String(label.rate),
          formatSpread(label.achievedRate),
          String(label.runs),
          `${label.sustainedRuns}/${label.runs}`,
          formatSpread(label.drainMs),
          formatSpread(label.lagPeakSecondHalf),
          label.failures.join('; ') || '',
        ]),
    ),
    '',
  );

  if (report.seedClaim) {
    const claim = report.seedClaim;
    out.push(
      `**Slow mail server** (${claim.slow}, MAIL_CONCURRENCY=${settings.slowSmtp?.mailConcurrency}): ` +
        'the answer to the customer does not wait for the email.',
      '',
      table(
        ['', 'accepted p50', 'accepted p99', 'email p50', 'email p99'],
        [
          [
            claim.fast,
            formatNumber(claim.acceptedP50Ms.fast),
            formatNumber(claim.acceptedP99Ms.fast),
            '',
            '',
          ],
          [
            claim.slow,
            formatNumber(claim.acceptedP50Ms.slow),
            formatNumber(claim.acceptedP99Ms.slow),
            formatNumber(claim.emailP50Ms),
            formatNumber(claim.emailP99Ms),
          ],
        ],
      ),
      '',
      `A synchronous design would answer when the email is accepted: ${formatNumber(claim.ratioP50)}× ` +
        `the p50 and ${formatNumber(claim.ratioP99)}× the p99 of the asynchronous answer.`,
      '',
    );
  }

  // The fixed rates (one-SKU too) and the sustained one: few columns that still show the trend.
  const stageLabels = summary.filter(
    (label) =>
      label.smtpDelayMs === 0 &&
      (label.kinds.includes('fixed') || label.rate === report.sustained.rate),
  );
  if (stageLabels.length > 0) {
    out.push(
      '**Where the time goes** (per-stage timestamps the services record; p50 / p99 in ms)',
      '',
      table(
        ['Stage', ...stageLabels.map((label) => label.label)],
        Object.keys(stageLabels[0]?.stagesMs ?? {}).map((stage) => [
          stage,
          ...stageLabels.map((label) => {
            const figures = label.stagesMs[stage];
            return figures
              ? `${formatNumber(figures.p50.median)} / ${formatNumber(figures.p99.median)}`
              : '–';
          }),
        ]),
      ),
      '',
    );
  }

  const processes = [...new Set(summary.flatMap((label) => Object.keys(label.resources)))];
  out.push(
    '**CPU and memory** during the load (CPU in % of one core, 100 % = one core busy; RSS in MiB)',
    '',
    table(
      ['Step', ...processes, 'machine busy', 'steal'],
      summary.map((label) => [
        label.label,
        ...processes.map((name) => {
          const usage = label.resources[name];
          return usage
            ? `${formatNumber(usage.cpuPercent.median)} % / ${formatNumber(usage.rssMb.median)}`
            : '–';
        }),
        `${formatNumber(label.systemBusyPercent.median)} %`,
        `${formatNumber(label.stealPercent.median)} %`,
      ]),
    ),
  );

  if (report.profile) {
    for (const [service, profile] of Object.entries(report.profile.services)) {
      out.push(
        '',
        `**CPU profile: ${service}** (${profile.busySeconds} s busy; self time)`,
        '',
        table(
          ['Package', '%'],
          profile.byPackage.slice(0, 8).map((share) => [share.name, String(share.percent)]),
        ),
        '',
        table(
          ['Function', '%'],
          profile.byFunction
            .slice(0, 10)
            .map((share) => [`\`${share.name}\``, String(share.percent)]),
        ),
      );
    }
    for (const [process, shares] of Object.entries(report.profile.cpu ?? {})) {
      out.push(
        '',
        `**CPU of ${process}, by what does the work** (% of one core, over the measured steps)`,
        '',
        table(
          ['Part', '% of a core'],
          shares.slice(0, 10).map((share) => [share.name, formatNumber(share.cpuPercent)]),
        ),
      );
    }
    if (report.profile.statements.length > 0) {
      out.push(
        '',
        '**Database time** (pg_stat_statements, whole run)',
        '',
        table(
          ['Statement', 'Calls', 'Mean ms', '% of DB time'],
          report.profile.statements.map((statement) => [
            `\`${statement.query.replace(/\|/g, '\\|')}\``,
            String(statement.calls),
            String(statement.meanMs),
            String(statement.percent),
          ]),
        ),
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** Processes that are the system under test, not the bench's own load generator or mail sink. */
const NOT_THE_SYSTEM = new Set(['load-generator', 'smtp-sink']);

export function isSystemProcess(name: string): boolean {
  return !NOT_THE_SYSTEM.has(name);
}

/** CPU the whole system spent per order at this step, in ms (median of the runs). */
export function cpuMsPerOrder(label: LabelSummary): number | null {
  const percents = Object.entries(label.resources)
    .filter(([name]) => isSystemProcess(name))
    .map(([, usage]) => usage.cpuPercent.median);
  if (percents.length === 0 || percents.some((percent) => percent === null)) return null;
  const busy = (percents as number[]).reduce((sum, percent) => sum + percent, 0);
  return (busy / 100) * (1_000 / label.rate);
}

function calibrationLines(report: BenchReport): string[] {
  const calibration = report.calibration;
  if (!calibration) return [];
  const commitMs = 1_000 / calibration.pgCommitsPerSecond;
  const ratio = (value: number | null, unit: number) =>
    value === null ? '–' : `${formatNumber(value)} (${formatNumber(value / unit)}×)`;
  return [
    `**This machine today** (measured first, in the same run): a bare \`node:http\` answer costs ` +
      `${formatNumber(calibration.httpCpuUsPerAnswer)} µs of CPU; Postgres commits ` +
      `${formatNumber(calibration.pgCommitsPerSecond)} one-row transactions/s on one connection ` +
      `(${formatNumber(commitMs)} ms each); a Kafka produce → consume round trip takes ` +
      `${formatNumber(calibration.kafkaRoundTripMsP50)} ms (p50). Below, each figure and its ratio ` +
      'to the matching calibration: compare days by the ratios.',
    '',
    table(
      [
        'Step',
        'accepted p50 ms (× commit)',
        'CONFIRMED p50 ms (× Kafka round trip)',
        'CPU per order ms (× bare answer)',
      ],
      report.summary.map((label) => [
        label.label,
        ratio(label.latencyMs.accepted.p50.median, commitMs),
        ratio(label.latencyMs.confirmed.p50.median, calibration.kafkaRoundTripMsP50),
        ratio(cpuMsPerOrder(label), calibration.httpCpuUsPerAnswer / 1_000),
      ]),
    ),
    '',
  ];
}
