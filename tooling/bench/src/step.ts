import type { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { totalLag, type ConsumerLagProbe, type LagSample } from './consumer-lag';
import type { BenchEnvironment } from './environment';
import { runOpenLoop, type LoadProgress, type LoadResult } from './load-generator';
import type { StepSpec } from './plan';
import type { ResourceSampler, ResourceUsage } from './resources';
import { countPending, readTimelines, STAGES, type OrderTimeline, type StagePoint } from './stages';
import { distribution, type Distribution } from './stats';

export interface Criteria {
  /** Processed p99 (CONFIRMED and email) must stay below this for a step to count as sustained. */
  p99BoundMs: number;
  /** Every order must be CONFIRMED with its email received this soon after the last request. */
  drainTimeoutMs: number;
  /** Consumer lag in the second half of the step must stay below this many seconds of arrivals. */
  maxLagSeconds: number;
  /** A step whose lag passes this many seconds of arrivals is stopped early: it has failed. */
  abortLagSeconds: number;
}

export interface StepResult {
  kind: StepSpec['kind'];
  label: string;
  rate: number;
  durationS: number;
  smtpDelayMs: number;
  mailConcurrency: number | null;
  oneSku: boolean;
  startedAt: string;
  requests: {
    scheduled: number;
    sent: number;
    accepted: number;
    failed: number;
    errors: Record<string, number>;
    /** Requests sent per second over the sending period. */
    achievedRate: number;
    /** How far the generator ran behind its own schedule at the end (ms); ~0 when it kept up. */
    generatorBehindMs: number;
    stoppedEarly: boolean;
  };
  processed: {
    confirmed: number;
    otherStatus: number;
    emails: number;
    /** Emails beyond the first one of an order (exactly one is owed). */
    repeatedEmails: number;
    /** From the last request to every order CONFIRMED and emailed (ms). */
    drainMs: number | null;
    complete: boolean;
  };
  latencyMs: { accepted: Distribution; confirmed: Distribution; email: Distribution };
  stagesMs: Record<string, Distribution>;
  lag: {
    start: LagSample;
    endOfLoad: LagSample;
    afterDrain: LagSample;
    peakSecondHalf: number;
    /** [seconds into the step, total lag of all groups] */
    series: Array<[number, number]>;
  };
  resources: ResourceUsage;
  verdict: { sustained: boolean; reasons: string[] };
}

export interface StepContext {
  environment: BenchEnvironment;
  client: Client;
  lag: ConsumerLagProbe;
  sampler: ResourceSampler;
  agent: Agent;
  /** Orders spread over the products, and orders all on one product. */
  bodies: { spread: readonly Buffer[]; oneSku: readonly Buffer[] };
  criteria: Criteria;
  onProgress?: (progress: LoadProgress & { lag: number | null }) => void;
  say: (line: string) => void;
}

const LAG_INTERVAL_MS = 2_000;
const DRAIN_POLL_MS = 200;
/** A step that has not drained by then leaves the system unusable for the next one. */
const DRAIN_HARD_LIMIT_MS = 10 * 60_000;

/** One step: open-loop load at one rate, then drain, then read what the system recorded. */
export async function runStep(spec: StepSpec, context: StepContext): Promise<StepResult> {
  const { environment, criteria } = context;
  await environment.configureMail(spec.mail);
  const authorization = await environment.customerAuthorization();
  const startedAt = new Date();
  const lagStart = await context.lag.sample();

  const series: Array<[number, number]> = [];
  let latestLag: number | null = null;
  let stoppedEarly = false;
  const abort = new AbortController();
  const abortLag = spec.rate * criteria.abortLagSeconds;
  const loadDone = new AbortController();
  const lagLoop = (async () => {
    while (!loadDone.signal.aborted) {
      const slept = await sleep(LAG_INTERVAL_MS, true, { signal: loadDone.signal }).catch(
        () => false,
      );
      if (!slept) break;
      const lag = totalLag(await context.lag.sample().catch(() => ({})));
      latestLag = lag;
      series.push([round((Date.now() - startedAt.getTime()) / 1_000), lag]);
      if (lag > abortLag && !abort.signal.aborted) {
        stoppedEarly = true;
        abort.abort();
      }
    }
  })();

  context.sampler.start();
  let load: LoadResult;
  try {
    load = await runOpenLoop({
      url: environment.orderUrl,
      authorization,
      rate: spec.rate,
      durationMs: spec.durationS * 1_000,
      bodies: spec.oneSku ? context.bodies.oneSku : context.bodies.spread,
      agent: context.agent,
      signal: abort.signal,
      ...(context.onProgress
        ? { onProgress: (progress) => context.onProgress?.({ ...progress, lag: latestLag }) }
        : {}),
    });
  } finally {
    loadDone.abort();
  }
  const loadEndedAt = Date.now();
  const resources = await context.sampler.stop();
  await lagLoop;
  const lagEndOfLoad = await context.lag.sample();

  const acceptedIds = load.orderIds.filter((id): id is string => id !== undefined);
  const drainMs = await drain(context, acceptedIds, loadEndedAt);
  const lagAfterDrain = await context.lag.sample();

  const timelines = await readTimelines(context.client, acceptedIds);
  const figures = measure(load, timelines, environment);
  const repeatedEmails = environment.emails().countRepeated(acceptedIds);
  environment.emails().forget(acceptedIds);

  const secondHalfFrom = spec.durationS / 2;
  const peakSecondHalf = Math.max(
    0,
    ...series.filter(([at]) => at >= secondHalfFrom).map(([, lag]) => lag),
    totalLag(lagEndOfLoad),
  );
  const failed = load.sent - acceptedIds.length;
  const result: StepResult = {
    kind: spec.kind,
    label: spec.label,
    rate: spec.rate,
    durationS: spec.durationS,
    smtpDelayMs: spec.mail.smtpDelayMs,
    mailConcurrency: spec.mail.mailConcurrency ?? null,
    oneSku: spec.oneSku,
    startedAt: startedAt.toISOString(),
    requests: {
      scheduled: load.intendedAt.length,
      sent: load.sent,
      accepted: acceptedIds.length,
      failed,
      errors: Object.fromEntries(load.errors),
      achievedRate: round(load.sendingMs > 0 ? (load.sent - 1) / (load.sendingMs / 1_000) : 0),
      generatorBehindMs: round(load.behindMs),
      stoppedEarly,
    },
    processed: {
      confirmed: figures.confirmed,
      otherStatus: figures.otherStatus,
      emails: figures.emails,
      repeatedEmails,
      drainMs: drainMs === null ? null : round(drainMs),
      complete:
        drainMs !== null &&
        drainMs <= criteria.drainTimeoutMs &&
        figures.confirmed === acceptedIds.length,
    },
    latencyMs: figures.latency,
    stagesMs: figures.stages,
    lag: {
      start: lagStart,
      endOfLoad: lagEndOfLoad,
      afterDrain: lagAfterDrain,
      peakSecondHalf,
      series,
    },
    resources,
    verdict: { sustained: false, reasons: [] },
  };
  result.verdict = judge(result, criteria);
  return result;
}

/** Waits until no order is PENDING and every accepted order's email arrived; null if it never did. */
async function drain(
  context: StepContext,
  orderIds: string[],
  loadEndedAt: number,
): Promise<number | null> {
  const sink = context.environment.emails();
  let warned = false;
  for (;;) {
    const pending = await countPending(context.client);
    const emailed = sink.countReceived(orderIds);
    const now = Date.now();
    if (pending === 0 && emailed >= orderIds.length) return now - loadEndedAt;
    if (now - loadEndedAt > DRAIN_HARD_LIMIT_MS) {
      throw new Error(
        `the system did not drain within ${DRAIN_HARD_LIMIT_MS / 60_000} min ` +
          `(${pending} orders PENDING, ${orderIds.length - emailed} emails missing); see the service logs`,
      );
    }
    if (!warned && now - loadEndedAt > context.criteria.drainTimeoutMs) {
      warned = true;
      context.say(
        `  still draining: ${pending} orders PENDING, ${orderIds.length - emailed} emails to go`,
      );
    }
    await sleep(DRAIN_POLL_MS);
  }
}

interface Figures {
  confirmed: number;
  otherStatus: number;
  emails: number;
  latency: StepResult['latencyMs'];
  stages: Record<string, Distribution>;
}

function measure(
  load: LoadResult,
  timelines: Map<string, OrderTimeline>,
  environment: BenchEnvironment,
): Figures {
  const sink = environment.emails();
  const accepted: number[] = [];
  const confirmed: number[] = [];
  const email: number[] = [];
  const stages = new Map<string, number[]>(STAGES.map((stage) => [stage.name, []]));
  let confirmedCount = 0;
  let otherStatus = 0;
  let emails = 0;
  for (let index = 0; index < load.sent; index += 1) {
    const id = load.orderIds[index];
    if (id === undefined) continue;
    const sent = load.intendedAt[index] as number;
    accepted.push(load.latencyMs[index] as number);
    const timeline = timelines.get(id);
    const stamp = sink.stampFor(id);
    if (stamp) {
      emails += 1;
      email.push(stamp.acceptedAt - sent);
    }
    if (!timeline) continue;
    if (timeline.status === 'CONFIRMED' && timeline.confirmed !== null) {
      confirmedCount += 1;
      confirmed.push(timeline.confirmed - sent);
    } else {
      otherStatus += 1;
    }
    const points: Record<StagePoint, number | null> = {
      ...timeline,
      sent,
      emailReceived: stamp?.receivedAt ?? null,
      emailAccepted: stamp?.acceptedAt ?? null,
    };
    for (const stage of STAGES) {
      const from = points[stage.from];
      const to = points[stage.to];
      if (from !== null && to !== null) stages.get(stage.name)?.push(to - from);
    }
  }
  return {
    confirmed: confirmedCount,
    otherStatus,
    emails,
    latency: {
      accepted: distribution(accepted),
      confirmed: distribution(confirmed),
      email: distribution(email),
    },
    stages: Object.fromEntries([...stages].map(([name, values]) => [name, distribution(values)])),
  };
}

/** Sustained = every order accepted and processed, processed p99 bounded, lag not growing. */
export function judge(result: StepResult, criteria: Criteria): StepResult['verdict'] {
  const reasons: string[] = [];
  const { requests, processed, latencyMs, lag } = result;
  if (requests.stoppedEarly) {
    reasons.push(`stopped early: consumer lag passed ${criteria.abortLagSeconds} s of arrivals`);
  }
  if (requests.failed > 0) {
    const kinds = Object.entries(requests.errors)
      .map(([kind, count]) => `${kind} ×${count}`)
      .join(', ');
    reasons.push(`${requests.failed} of ${requests.sent} requests failed (${kinds})`);
  }
  // A generator more than a second behind its schedule was the bottleneck: the rate was not offered.
  if (requests.generatorBehindMs > 1_000) {
    reasons.push(`the load generator fell ${Math.round(requests.generatorBehindMs)} ms behind`);
  }
  if (!processed.complete) {
    const missing = requests.accepted - processed.confirmed;
    reasons.push(
      processed.drainMs === null || processed.drainMs > criteria.drainTimeoutMs
        ? `not every order processed within ${criteria.drainTimeoutMs / 1_000} s of the last request`
        : `${missing} orders not CONFIRMED`,
    );
  }
  // No process crashes during a step, so even a resend with the same Message-ID is a defect here.
  if (processed.repeatedEmails > 0) {
    reasons.push(`${processed.repeatedEmails} emails beyond the one each order is owed`);
  }
  for (const [name, figures] of [
    ['CONFIRMED', latencyMs.confirmed],
    ['email', latencyMs.email],
  ] as const) {
    if (figures.p99 !== null && figures.p99 > criteria.p99BoundMs) {
      reasons.push(`${name} p99 ${Math.round(figures.p99)} ms > ${criteria.p99BoundMs} ms`);
    }
  }
  const lagBound = Math.max(1, result.rate * criteria.maxLagSeconds);
  if (lag.peakSecondHalf > lagBound) {
    reasons.push(
      `consumer lag reached ${lag.peakSecondHalf} in the second half (> ${Math.round(lagBound)})`,
    );
  }
  return { sustained: reasons.length === 0, reasons };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
