import type { MailSettings } from './environment';

export type StepKind = 'fixed' | 'slow-smtp' | 'search' | 'confirm';

export interface StepSpec {
  kind: StepKind;
  /** Runs with the same label are repeats of one measurement: their figures are aggregated. */
  label: string;
  rate: number;
  durationS: number;
  mail: MailSettings;
  /** Every order on the same product (a flash sale): one row takes every reservation's lock. */
  oneSku: boolean;
}

/** The plain configuration: orders spread over the products, a prompt mail server. */
export function isStandard(step: { smtpDelayMs: number; oneSku: boolean }): boolean {
  return step.smtpDelayMs === 0 && !step.oneSku;
}

export interface PlanOptions {
  rates: number[];
  durationS: number;
  runs: number;
  /** The seed's claim: one rate with a slow SMTP server; 0 skips it. */
  smtpDelayMs: number;
  slowRate: number;
  slowMailConcurrency: number;
  /** Rates run with every order on one product, beside the spread ones. */
  oneSkuRates: number[];
  search: boolean;
  searchSteps: number;
  /** Each search step up multiplies the rate by this until a step fails. */
  searchFactor: number;
  /** The search stops once the highest pass and lowest fail are this close (relative). */
  searchResolution: number;
}

export const DEFAULT_MAIL: MailSettings = { smtpDelayMs: 0, mailConcurrency: undefined };

export function labelFor(rate: number, mail: MailSettings, oneSku = false): string {
  if (oneSku) return `${rate}/s, one SKU`;
  return mail.smtpDelayMs > 0 ? `${rate}/s, SMTP +${mail.smtpDelayMs} ms` : `${rate}/s`;
}

/** The fixed rates, round-robin (all rates once, then again), so slow drift hits every rate alike. */
export function fixedSteps(options: PlanOptions): StepSpec[] {
  const steps: StepSpec[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    for (const rate of options.rates)
      steps.push(step('fixed', rate, options.durationS, DEFAULT_MAIL));
    for (const rate of options.oneSkuRates)
      steps.push(step('fixed', rate, options.durationS, DEFAULT_MAIL, true));
  }
  return steps;
}

/** Same rate with the SMTP server answering late; MAIL_CONCURRENCY raised so mail can keep up. */
export function slowSmtpSteps(options: PlanOptions): StepSpec[] {
  if (options.smtpDelayMs <= 0) return [];
  const mail = { smtpDelayMs: options.smtpDelayMs, mailConcurrency: options.slowMailConcurrency };
  return Array.from({ length: options.runs }, () =>
    step('slow-smtp', options.slowRate, options.durationS, mail),
  );
}

export function searchStep(
  rate: number,
  options: PlanOptions,
  kind: StepKind = 'search',
): StepSpec {
  return step(kind, rate, options.durationS, DEFAULT_MAIL);
}

function step(
  kind: StepKind,
  rate: number,
  durationS: number,
  mail: MailSettings,
  oneSku = false,
): StepSpec {
  return { kind, label: labelFor(rate, mail, oneSku), rate, durationS, mail, oneSku };
}

/** Per rate (fast SMTP only): did every run at that rate sustain it? */
export function outcomesByRate(
  runs: Array<{ rate: number; smtpDelayMs: number; oneSku: boolean; sustained: boolean }>,
): Map<number, boolean> {
  const outcomes = new Map<number, boolean>();
  for (const run of runs) {
    if (!isStandard(run)) continue;
    outcomes.set(run.rate, (outcomes.get(run.rate) ?? true) && run.sustained);
  }
  return outcomes;
}

/**
 * The next rate to try, or undefined when the search is done: step up geometrically until a rate
 * fails (or down until one passes), then bisect between the highest pass and the lowest fail.
 */
export function nextSearchRate(
  outcomes: Map<number, boolean>,
  options: Pick<PlanOptions, 'searchFactor' | 'searchResolution'>,
): number | undefined {
  const fails = [...outcomes].filter(([, pass]) => !pass).map(([rate]) => rate);
  const lowestFail = fails.length ? Math.min(...fails) : undefined;
  const passes = [...outcomes]
    .filter(([rate, pass]) => pass && (lowestFail === undefined || rate < lowestFail))
    .map(([rate]) => rate);
  const highestPass = passes.length ? Math.max(...passes) : undefined;
  let candidate: number;
  if (lowestFail === undefined) {
    if (highestPass === undefined) return undefined;
    candidate = roundRate(highestPass * options.searchFactor);
  } else if (highestPass === undefined) {
    candidate = roundRate(lowestFail / options.searchFactor);
    if (candidate < MIN_RATE) return undefined;
  } else {
    if ((lowestFail - highestPass) / highestPass <= options.searchResolution) return undefined;
    candidate = roundRate((highestPass + lowestFail) / 2);
    if (candidate <= highestPass || candidate >= lowestFail) return undefined;
  }
  return outcomes.has(candidate) ? undefined : candidate;
}

const MIN_RATE = 5;

/** Readable rates: multiples of 5 below 100, of 10 below 1,000, of 50 above. */
export function roundRate(rate: number): number {
  const unit = rate < 100 ? 5 : rate < 1_000 ? 10 : 50;
  return Math.max(unit, Math.round(rate / unit) * unit);
}

/**
 * The sustained throughput: the highest rate run at least `requiredRuns` times with every run
 * sustaining it. A failure at a lower rate is not hidden: it shows in the report's table.
 */
export function sustainedRate(
  runs: Array<{ rate: number; smtpDelayMs: number; oneSku: boolean; sustained: boolean }>,
  requiredRuns: number,
): number | undefined {
  const counts = new Map<number, number>();
  for (const run of runs) {
    if (isStandard(run)) counts.set(run.rate, (counts.get(run.rate) ?? 0) + 1);
  }
  const outcomes = outcomesByRate(runs);
  const confirmed = [...counts]
    .filter(([rate, count]) => count >= requiredRuns && outcomes.get(rate) === true)
    .map(([rate]) => rate);
  return confirmed.length ? Math.max(...confirmed) : undefined;
}

/** Rough wall-clock estimate of a run, for the banner. */
export function estimateSeconds(options: PlanOptions, warmupS: number): number {
  const perStep = (durationS: number): number => durationS + STEP_OVERHEAD_S;
  const fixedRates = options.rates.length + options.oneSkuRates.length;
  const fixed = fixedRates * options.runs * perStep(options.durationS);
  const slow =
    options.smtpDelayMs > 0 ? options.runs * perStep(options.durationS) + 2 * RESTART_S : 0;
  // Typically four search steps, then the found rate repeated to `runs` runs.
  const search = options.search
    ? (Math.min(options.searchSteps, 4) + options.runs - 1) * perStep(options.durationS)
    : 0;
  return STARTUP_S + warmupS + STEP_OVERHEAD_S + fixed + slow + search;
}

const STEP_OVERHEAD_S = 6;
const RESTART_S = 10;
const STARTUP_S = 45;
