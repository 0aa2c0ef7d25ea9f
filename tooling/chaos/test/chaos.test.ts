import { cpus } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { badRequestCorpus, corpusCredentials, fetchOpenApi } from '@shop/devstack';
import {
  BURST_ORDERS,
  BURST_STOCK,
  databaseRestarted,
  findings,
  formatTable,
  isJsonClientError,
  isScenarioResult,
  KafkaWatch,
  kafkaKilled,
  loadChaosConfig,
  poisonMessagesScenario,
  redeliveredEvents,
  runScenario,
  scarceStockRush,
  sendRaw,
  serviceKilled,
  serviceTables,
  startChaosStack,
  waitForDeferredEmails,
  withDeferredEmails,
  writeResults,
  type ChaosContext,
  type ReportRow,
  type Scenario,
  type ScenarioResult,
} from '../src';

const config = loadChaosConfig();
const startedAt = new Date();
const rows: ReportRow[] = [];
const RESULTS_FILE = join(__dirname, '..', 'results', 'last-run.json');
/** The notification dispatcher's claim lease (2 min) plus slack: a killed sender's emails wait that long. */
const DEFERRED_EMAIL_TIMEOUT_MS = 150_000;

let ctx: ChaosContext | undefined;
let failures = 0;

beforeAll(async () => {
  const stack = await startChaosStack({
    replicas: { 'order-service': 1, 'inventory-service': 2, 'notification-service': 2 },
    serviceLogLevel: config.serviceLogLevel,
  });
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 4 });
  // Postgres is restarted on purpose: idle clients then error, and the next query reconnects.
  pool.on('error', () => undefined);
  ctx = { stack, config, pool, kafka: new KafkaWatch(stack.kafka.brokers) };
}, 300_000);

afterAll(async () => {
  const table = formatTable(rows);
  process.stdout.write(
    `\nChaos suite, ${cpus().length} cores, ${config.ratePerSecond} orders/s, ` +
      `bound ${config.recoveryBoundMs / 1_000} s after each fault:\n\n${table}\n\n`,
  );
  await writeResults(RESULTS_FILE, config, startedAt, rows);
  if (!ctx) return;
  await ctx.pool.end();
  const keep = config.keepLogs || failures > 0;
  await ctx.stack.stop(keep);
  if (keep) process.stdout.write(`service, Kafka and Postgres logs kept in ${ctx.stack.logDir}\n`);
}, 120_000);

function context(): ChaosContext {
  if (!ctx) throw new Error('the chaos stack did not start');
  return ctx;
}

/** Counts a failed test, so the logs are kept for a post-mortem. */
async function tracked(test: () => Promise<void>): Promise<void> {
  try {
    await test();
  } catch (error) {
    failures += 1;
    throw error;
  }
}

/** Runs a scenario and reports its line whatever the checks then say. */
function run(scenario: Scenario, check: (result: ScenarioResult) => void): Promise<void> {
  return tracked(async () => {
    progress(`${scenario.id}. ${scenario.title}: running`);
    const result = await runScenario(context(), scenario);
    rows.push(result);
    progress(`${scenario.id}. done: ${formatTable([result]).split('\n')[2] ?? ''}`);
    check(result);
  });
}

/** Jest shows test output only at the end; a run of several minutes says where it is. */
function progress(line: string): void {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function expectNothingLostOrDoubled(result: ScenarioResult): void {
  expect(findings(result, config.recoveryBoundMs)).toEqual([]);
}

describe('the order flow under faults', () => {
  it('1. keeps every order when the Kafka broker is SIGKILLed mid-traffic and restarted', () =>
    run(kafkaKilled(config), (result) => {
      expectNothingLostOrDoubled(result);
      expect(result.acceptedDuringFault).toBeGreaterThan(0);
    }));

  it('2a. keeps every order when the inventory service is SIGKILLed and restarted', () =>
    run(serviceKilled('2a', 'inventory-service', config), expectNothingLostOrDoubled));

  it('2b. keeps every order when the notification service is SIGKILLed and restarted', () =>
    run(serviceKilled('2b', 'notification-service', config), expectNothingLostOrDoubled));

  it('2c. keeps every order when the order service is SIGKILLed and restarted', () =>
    run(serviceKilled('2c', 'order-service', config), expectNothingLostOrDoubled));

  it('3. keeps every order when Postgres restarts under traffic', () =>
    run(databaseRestarted(config), expectNothingLostOrDoubled));

  it('4. dead-letters poison messages on every topic and keeps the valid events flowing', () =>
    run(poisonMessagesScenario(config), (result) => {
      expectNothingLostOrDoubled(result);
      if (result.deadLetterTopics) expect(result.deadLetters).toBe(result.expectedDeadLetters);
    }));

  it(`5. confirms exactly ${BURST_STOCK} of ${BURST_ORDERS} concurrent orders for ${BURST_STOCK} units across 2 inventory replicas`, async () => {
    const partitionsPerReplica = await context().kafka.assignments('inventory-service');
    await run(scarceStockRush(), (result) => {
      expectNothingLostOrDoubled(result);
      expect(result.statuses).toEqual({
        CONFIRMED: BURST_STOCK,
        REJECTED: BURST_ORDERS - BURST_STOCK,
      });
      expect(partitionsPerReplica).toHaveLength(2);
      expect(partitionsPerReplica.every((partitions) => partitions > 0)).toBe(true);
    });
  });

  it('6. applies every effect once when each event is delivered several times', () =>
    run(redeliveredEvents(config), expectNothingLostOrDoubled));

  it('7. answers at least 200 bad requests with a 4xx JSON body and writes nothing', () =>
    tracked(async () => {
      const { stack, pool } = context();
      const urls = {
        order: stack.urls('order-service')[0] ?? '',
        inventory: stack.urls('inventory-service')[0] ?? '',
        notification: stack.urls('notification-service')[0] ?? '',
      };
      const openApi = {
        order: await fetchOpenApi(urls.order),
        inventory: await fetchOpenApi(urls.inventory),
        notification: await fetchOpenApi(urls.notification),
      };
      const credentials = await corpusCredentials(stack.auth.issuerUrl, stack.auth.signingJwk);
      const corpus = badRequestCorpus(openApi, credentials);
      const before = await serviceTables(pool);
      const answers = [];
      for (const bad of corpus)
        answers.push({ bad, answer: await sendRaw(urls[bad.service], bad) });
      const after = await serviceTables(pool);

      const serverErrors = answers.filter(
        ({ answer }) => answer.kind === 'answer' && answer.status >= 500,
      ).length;
      const wrong = answers
        .filter(({ answer }) => !isJsonClientError(answer))
        .map(({ bad, answer }) =>
          answer.kind === 'answer'
            ? `${bad.name}: ${answer.status} ${answer.contentType} ${answer.body.slice(0, 200)}`
            : `${bad.name}: no answer (${answer.error})`,
        );
      rows.push({
        id: '7',
        title: 'bad REST requests',
        accepted: 0,
        terminal: 0,
        lost: 0,
        duplicated: 0,
        oversold: 0,
        serverErrors,
        deadLetters: 0,
        deadLetterTopics: true,
        expectedDeadLetters: undefined,
        recoverySeconds: null,
        resends: 0,
        unanswered: answers.filter(({ answer }) => answer.kind === 'no-answer').length,
        notes: [
          `${corpus.length} requests, ${corpus.length - wrong.length} answered 4xx + JSON`,
          JSON.stringify(after) === JSON.stringify(before) ? 'no row written' : 'ROWS WRITTEN',
        ],
      });
      expect(corpus.length).toBeGreaterThanOrEqual(200);
      expect(wrong).toEqual([]);
      expect(after).toEqual(before);
    }));

  it('8. delivers the emails a killed sender had claimed once its claim expires, each once', () =>
    tracked(async () => {
      for (const [index, row] of rows.entries()) {
        if (!isScenarioResult(row) || row.deferredEmails === 0) continue;
        await waitForDeferredEmails(context(), row, DEFERRED_EMAIL_TIMEOUT_MS);
        const updated = await withDeferredEmails(context(), row);
        rows[index] = updated;
        expect({
          id: row.id,
          lost: updated.lostReasons,
          duplicated: updated.duplicatedReasons,
        }).toEqual({ id: row.id, lost: row.lostReasons, duplicated: row.duplicatedReasons });
      }
    }));
});
