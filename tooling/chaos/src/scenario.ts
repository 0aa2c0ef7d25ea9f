import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import { issueToken, requestJson, waitFor } from '@shop/devstack';
import type { ChaosConfig } from './config';
import {
  backlog,
  countEffects,
  pendingAmong,
  type Backlog,
  type Effects,
  type ScenarioScope,
} from './counters';
import type { DeadLetterCount, KafkaWatch } from './kafka-watch';
import type { ReportRow } from './report';
import { SERVICE_NAMES, type ChaosStack } from './stack';
import { Traffic, type TrafficCounts } from './traffic';

export interface ChaosContext {
  stack: ChaosStack;
  config: ChaosConfig;
  pool: Pool;
  kafka: KafkaWatch;
}

/** What a scenario's drive() uses: the traffic, and marks for when its fault starts and ends. */
export interface ScenarioRun {
  ctx: ChaosContext;
  traffic: Traffic;
  faultStarted(): void;
  /**
   * The faulty part is back (restarted and ready): from here on the system must recover within
   * the bound. Defaults to when drive() returns.
   */
  faultEnded(): void;
  expectDeadLetters(count: number): void;
  /** Copies of events sent again, and the partitions a group had not read past at the end. */
  expectRedeliveries(redelivery: Redelivery): void;
  note(text: string): void;
}

export interface Redelivery {
  copies: number;
  unreadPartitions: number;
}

export interface Scenario {
  id: string;
  title: string;
  /** Fresh products for this scenario only, so its counts are its own. */
  skus: ReadonlyArray<{ sku: string; stock: number }>;
  cancelShare: number;
  /**
   * Why this fault may send an email twice (same Message-ID): it can strike between the SMTP
   * server's acceptance and the row marked SENT. Unset, any second copy fails the scenario.
   */
  mayResendEmails?: string;
  /** Drives traffic and injects the fault; returns once the traffic has stopped. */
  drive(run: ScenarioRun): Promise<void>;
}

export interface ScenarioResult extends Effects, ReportRow {
  refused: number;
  unansweredCancels: number;
  mayResendEmails?: string;
  redelivery?: Redelivery;
  acceptedDuringFault: number;
  /** Replicas that died on their own during the scenario (the stack restarted them). */
  crashes: string[];
  traffic: TrafficCounts;
  /** Kept to recount later (emails a crashed dispatcher still holds); not reported. */
  scope: ScenarioScope;
}

export function isScenarioResult(row: ReportRow): row is ScenarioResult {
  return 'scope' in row;
}

const SETTLE_POLL_MS = 1_000;

/** Runs one scenario against the shared stack and counts what ended where. */
export async function runScenario(ctx: ChaosContext, scenario: Scenario): Promise<ScenarioResult> {
  await waitUntilHealthy(ctx.stack);
  const crashesBefore = ctx.stack.crashes().length;
  await createProducts(ctx.stack, scenario.skus);
  const deadLettersBefore = await ctx.kafka.deadLetters();
  const traffic = new Traffic({
    orderUrls: ctx.stack.urls('order-service'),
    // Every client is the seeded customer ada: the scenario's SKUs tell its orders apart.
    authorization: `Bearer ${await issueToken(ctx.stack.auth.issuerUrl, 'ada')}`,
    skus: scenario.skus.map((product) => product.sku),
    cancelShare: scenario.cancelShare,
  });
  let faultStart: number | undefined;
  let faultEnd: number | undefined;
  let expectedDeadLetters: number | undefined;
  let redelivery: Redelivery | undefined;
  let recovery: Promise<number | null> | undefined;
  const notes: string[] = [];
  const markEnd = (): void => {
    if (faultEnd !== undefined) return;
    faultEnd = Date.now();
    recovery = watchRecovery(ctx, traffic, faultEnd);
  };
  await scenario.drive({
    ctx,
    traffic,
    faultStarted: () => (faultStart ??= Date.now()),
    faultEnded: markEnd,
    expectDeadLetters: (count) => (expectedDeadLetters = count),
    expectRedeliveries: (seen) => (redelivery = seen),
    note: (text) => notes.push(text),
  });
  markEnd();
  await traffic.stop();

  const scope: ScenarioScope = {
    tag: tagOf(scenario),
    skus: scenario.skus,
    accepted: traffic.accepted(),
  };
  const deadline = (faultEnd ?? Date.now()) + ctx.config.recoveryBoundMs;
  const settled = await settle(ctx, scope, deadline, (count) =>
    expectedDeadLetters === undefined || !count.topicsExist
      ? true
      : count.total - deadLettersBefore.total >= expectedDeadLetters,
  );
  if (settled !== true) notes.push(`at the bound: ${settled}`);
  const crashes = ctx.stack.crashes().slice(crashesBefore);
  if (crashes.length > 0) notes.push(crashes.map((crash) => crash.split(':')[0]).join(', '));
  const effects = await countEffects(ctx.pool, ctx.stack.smtp, scope);
  const deadLettersAfter = await ctx.kafka.deadLetters();
  const counts = traffic.counts();
  const during = scope.accepted.filter(
    (request) =>
      faultStart !== undefined &&
      faultEnd !== undefined &&
      request.acceptedAt !== undefined &&
      request.acceptedAt >= faultStart &&
      request.acceptedAt <= faultEnd,
  ).length;
  return {
    id: scenario.id,
    title: scenario.title,
    ...effects,
    serverErrors: counts.serverErrors,
    unanswered: counts.unanswered,
    refused: counts.refused,
    unansweredCancels: counts.unansweredCancels,
    ...(scenario.mayResendEmails ? { mayResendEmails: scenario.mayResendEmails } : {}),
    ...(redelivery ? { redelivery } : {}),
    deadLetters: deadLettersAfter.total - deadLettersBefore.total,
    deadLetterTopics: deadLettersAfter.topicsExist,
    expectedDeadLetters,
    recoverySeconds: (await recovery) ?? null,
    acceptedDuringFault: during,
    crashes,
    traffic: counts,
    notes,
    scope,
  };
}

/**
 * The scenario's line once the emails it left deferred (held by a crashed sender's claim) are
 * due: those not delivered by now count as lost, second copies as re-sent or duplicated. The
 * rest of the line keeps what was counted at the bound.
 */
export async function withDeferredEmails(
  ctx: ChaosContext,
  result: ScenarioResult,
): Promise<ScenarioResult> {
  const later = await countEffects(ctx.pool, ctx.stack.smtp, result.scope);
  const lostNow = (later.lostReasons['no-email'] ?? 0) + later.deferredEmails;
  const lostAtBound = result.lostReasons['no-email'] ?? 0;
  const newlyLost = Math.max(0, lostNow - lostAtBound);
  const duplicatedReasons = { ...result.duplicatedReasons };
  for (const reason of EMAIL_DUPLICATES) {
    const count = Math.max(later.duplicatedReasons[reason] ?? 0, duplicatedReasons[reason] ?? 0);
    if (count > 0) duplicatedReasons[reason] = count;
  }
  return {
    ...result,
    lost: result.lost + newlyLost,
    lostReasons: newlyLost
      ? { ...result.lostReasons, 'no-email': lostAtBound + newlyLost }
      : result.lostReasons,
    duplicated: Object.values(duplicatedReasons).reduce((sum, count) => sum + count, 0),
    duplicatedReasons,
    resends: later.resends,
    deferredEmails: later.deferredEmails,
    notes: [
      ...result.notes,
      `${result.deferredEmails} emails sent once a dead sender's claim expired`,
    ],
  };
}

const EMAIL_DUPLICATES = ['second-notification', 'email-without-notification'];

/** Waits until the scenario's emails are no longer deferred (bounded); true when none is left. */
export async function waitForDeferredEmails(
  ctx: ChaosContext,
  result: ScenarioResult,
  timeoutMs: number,
): Promise<boolean> {
  try {
    await waitFor(
      async () => {
        const left = await backlog(ctx.pool, ctx.stack.smtp, result.scope);
        return left.deferredEmails === 0 && left.unsentEmails === 0;
      },
      { timeoutMs, intervalMs: SETTLE_POLL_MS, description: `deferred emails of ${result.id}` },
    );
    return true;
  } catch {
    return false;
  }
}

export function tagOf(scenario: Pick<Scenario, 'id'>): string {
  return `s${scenario.id.toLowerCase()}`;
}

/**
 * Until every accepted order is terminal, every event published and consumed, every email sent
 * and seen, dead letters (when expected) counted, and two polls in a row agree; or the deadline.
 * Resolves with true, or with what was still in motion at the deadline.
 */
async function settle(
  ctx: ChaosContext,
  scope: ScenarioScope,
  deadline: number,
  deadLettersDone: (count: DeadLetterCount) => boolean,
): Promise<true | string> {
  let previous = '';
  let last = 'the bound had passed before the traffic stopped';
  while (Date.now() < deadline) {
    const state = await motion(ctx, scope).catch((error: unknown) => {
      last = `cannot tell: ${error instanceof Error ? error.message : String(error)}`;
      return undefined;
    });
    if (state) last = describeMotion(state);
    if (state && state.lag === 0 && isQuiet(state.backlog) && deadLettersDone(state.deadLetters)) {
      if (last === previous) return true;
      previous = last;
    } else previous = '';
    await sleep(SETTLE_POLL_MS);
  }
  return last;
}

async function motion(ctx: ChaosContext, scope: ScenarioScope) {
  const [left, lags, deadLetters] = await Promise.all([
    backlog(ctx.pool, ctx.stack.smtp, scope),
    Promise.all(SERVICE_NAMES.map((group) => ctx.kafka.lag(group))),
    ctx.kafka.deadLetters(),
  ]);
  return { backlog: left, lag: lags.reduce((sum, lag) => sum + lag, 0), deadLetters };
}

function describeMotion(state: Awaited<ReturnType<typeof motion>>): string {
  const { backlog: left, lag } = state;
  return (
    `${left.pendingOrders} orders PENDING, ${left.unsentEvents} events in outboxes, ` +
    `consumer lag ${lag}, ${left.unsentEmails} emails unsent, ${left.deferredEmails} deferred`
  );
}

function isQuiet(left: Backlog): boolean {
  return left.pendingOrders === 0 && left.unsentEvents === 0 && left.unsentEmails === 0;
}

/**
 * Seconds from the fault's end until every order requested before it has been answered and,
 * if accepted, reached a terminal state; null when that does not happen within the bound.
 */
async function watchRecovery(
  ctx: ChaosContext,
  traffic: Traffic,
  faultEnd: number,
): Promise<number | null> {
  const deadline = faultEnd + ctx.config.recoveryBoundMs;
  while (Date.now() < deadline) {
    const before = traffic.requests().filter((request) => request.issuedAt <= faultEnd);
    if (before.every((request) => request.state !== 'in-flight')) {
      const ids = before.flatMap((request) => request.orderId ?? []);
      const pending = await pendingAmong(ctx.pool, ids).catch(() => undefined);
      if (pending === 0) return Math.round((Date.now() - faultEnd) / 100) / 10;
    }
    await sleep(250);
  }
  return null;
}

async function waitUntilHealthy(stack: ChaosStack): Promise<void> {
  const urls = SERVICE_NAMES.flatMap((service) => stack.urls(service));
  await waitFor(
    async () => {
      const answers = await Promise.all(
        urls.map((url) =>
          fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
            (response) => response.status === 200,
            () => false,
          ),
        ),
      );
      return answers.every(Boolean);
    },
    { timeoutMs: 120_000, intervalMs: 500, description: 'every replica to answer /health 200' },
  );
}

async function createProducts(
  stack: ChaosStack,
  skus: ReadonlyArray<{ sku: string; stock: number }>,
): Promise<void> {
  const [inventory] = stack.urls('inventory-service');
  const admin = { authorization: `Bearer ${await issueToken(stack.auth.issuerUrl, 'admin')}` };
  for (const { sku, stock } of skus) {
    const url = `${inventory}/products/${sku}`;
    const response = await requestJson('PUT', url, { name: sku, stock }, admin);
    if (response.status !== 200) {
      throw new Error(
        `PUT /products/${sku} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    }
  }
}

/** The common shape: steady traffic, the fault in the middle, steady traffic after it. */
export function steadyTrafficAround(fault: (run: ScenarioRun) => Promise<void>) {
  return async (run: ScenarioRun): Promise<void> => {
    const { config } = run.ctx;
    run.traffic.start(config.ratePerSecond);
    await sleep(config.phaseMs);
    run.faultStarted();
    await fault(run);
    run.faultEnded();
    await sleep(config.phaseMs);
    await run.traffic.stop();
  };
}

/** Enough stock for most orders of a steady scenario, not all: some are rejected, as in life. */
export function steadyStock(config: ChaosConfig, skuCount: number): number {
  const seconds = (2 * config.phaseMs + config.faultMs) / 1_000;
  // 1.5 lines of 2 units on average per order, spread over the SKUs; 70 % of that demand.
  return Math.max(10, Math.round(((config.ratePerSecond * seconds * 3) / skuCount) * 0.7));
}
