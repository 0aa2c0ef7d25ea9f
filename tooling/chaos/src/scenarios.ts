import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@shop/devstack';
import type { ServiceName } from '@shop/database';
import type { ChaosConfig } from './config';
import { pendingAmong } from './counters';
import { poisonMessages, publishPoison, Republisher } from './faults';
import { steadyStock, steadyTrafficAround, type Scenario, type ScenarioRun } from './scenario';
import { SERVICE_NAMES } from './stack';

const CANCEL_SHARE = 0.1;
const POISON_GAP_MS = 300;
const REDELIVERY_COPIES = 3;
export const BURST_ORDERS = 1_000;
export const BURST_STOCK = 100;

function products(id: string, config: ChaosConfig): Array<{ sku: string; stock: number }> {
  const stock = steadyStock(config, 3);
  return ['A', 'B', 'C'].map((letter) => ({ sku: `CHAOS-${id.toUpperCase()}-${letter}`, stock }));
}

/** Steady traffic on three fresh products, the fault in the middle. */
function steadyScenario(
  id: string,
  title: string,
  config: ChaosConfig,
  fault: (run: ScenarioRun) => Promise<void>,
  mayResendEmails?: string,
): Scenario {
  return {
    id,
    title,
    skus: products(id, config),
    cancelShare: CANCEL_SHARE,
    ...(mayResendEmails ? { mayResendEmails } : {}),
    drive: steadyTrafficAround(fault),
  };
}

/** 1. SIGKILL the broker mid-traffic; orders are still accepted while it is down; restart it. */
export function kafkaKilled(config: ChaosConfig): Scenario {
  return steadyScenario('1', 'Kafka broker SIGKILLed, restarted', config, async (run) => {
    const { kafka } = run.ctx.stack;
    kafka.kill();
    await sleep(config.faultMs);
    await timed(run, 'broker', () => kafka.restart());
  });
}

/** 2. SIGKILL every replica of one service mid-traffic; restart them on the same ports. */
export function serviceKilled(id: string, service: ServiceName, config: ChaosConfig): Scenario {
  return steadyScenario(
    id,
    `${service} SIGKILLed, restarted`,
    config,
    async (run) => {
      const replicas = run.ctx.stack.replicas(service).length;
      await run.ctx.stack.kill(service);
      if (replicas > 1) run.note(`all ${replicas} replicas killed`);
      await sleep(config.faultMs);
      await timed(run, replicas > 1 ? 'replicas' : 'service', () => run.ctx.stack.start(service));
    },
    service === 'notification-service'
      ? 'the sender can die after the SMTP server took an email and before marking it sent'
      : undefined,
  );
}

/** 3. Restart Postgres (fast shutdown, start again) under traffic. */
export function databaseRestarted(config: ChaosConfig): Scenario {
  return steadyScenario(
    '3',
    'Postgres restarted',
    config,
    (run) => timed(run, 'database', () => run.ctx.stack.postgres.restart(), 'down and up'),
    'marking an email sent can fail after the SMTP server took it; the retry sends it again',
  );
}

/** 4. Unreadable messages on every topic, between valid events. */
export function poisonMessagesScenario(config: ChaosConfig): Scenario {
  return steadyScenario('4', 'poison messages on every topic', config, async (run) => {
    const poison = poisonMessages();
    const readers = await run.ctx.kafka.subscribers(SERVICE_NAMES);
    run.expectDeadLetters(
      poison.reduce((sum, message) => sum + (readers.get(message.topic)?.length ?? 0), 0),
    );
    await publishPoison(run.ctx.stack.kafka.brokers, poison, POISON_GAP_MS);
    const kinds = new Set(poison.map((message) => message.kind)).size;
    run.note(`${poison.length} poison messages (${kinds} kinds × ${readers.size} topics)`);
  });
}

/** 5. Two inventory replicas, many concurrent orders for one scarce SKU. */
export function scarceStockRush(): Scenario {
  const sku = 'CHAOS-5-HOT';
  return {
    id: '5',
    title: `${BURST_ORDERS} concurrent orders, ${BURST_STOCK} units, 2 inventory replicas`,
    skus: [{ sku, stock: BURST_STOCK }],
    cancelShare: 0,
    drive: async (run) => {
      const members = await run.ctx.kafka.assignments('inventory-service');
      run.note(`inventory partitions per replica: ${members.join('+')}`);
      run.faultStarted();
      await Promise.all(
        Array.from({ length: BURST_ORDERS }, () => run.traffic.place([{ sku, quantity: 1 }])),
      );
      run.faultEnded();
    },
  };
}

/** 6. Every event of the scenario's orders delivered again, several times, same event id. */
export function redeliveredEvents(config: ChaosConfig): Scenario {
  return {
    id: '6',
    title: `every event redelivered ${REDELIVERY_COPIES} more times`,
    skus: products('6', config),
    cancelShare: CANCEL_SHARE,
    drive: async (run) => {
      const republisher = await Republisher.start(run.ctx.stack.kafka.brokers, REDELIVERY_COPIES);
      const orderIds = (): Set<string> =>
        new Set(run.traffic.accepted().flatMap((request) => request.orderId ?? []));
      try {
        await steadyTrafficAround(async () => {
          const until = Date.now() + config.faultMs;
          while (Date.now() < until) {
            await republisher.republish(orderIds());
            await sleep(500);
          }
        })(run);
        await allTerminal(run, config.recoveryBoundMs);
        // The outcomes of the last orders, and their emails' events, are redelivered too.
        await republisher.republish(orderIds());
        const { events, copies } = republisher.totals();
        run.note(`${copies} copies of ${events} events`);
        // Copies count only if the services read them: each group must commit past the last.
        const ends = await run.ctx.kafka.logEnds(republisher.topics());
        const unread = async (): Promise<number> => {
          let total = 0;
          for (const group of SERVICE_NAMES) total += await run.ctx.kafka.uncommitted(group, ends);
          return total;
        };
        await waitFor(async () => (await unread()) === 0, {
          timeoutMs: config.recoveryBoundMs,
          intervalMs: 500,
          description: 'every group to read past the copies',
        }).catch(() => undefined);
        run.expectRedeliveries({ copies, unreadPartitions: await unread() });
      } finally {
        await republisher.stop();
      }
    },
  };
}

/** Runs a restart and notes how long the part took to be ready again. */
async function timed(
  run: ScenarioRun,
  what: string,
  restart: () => Promise<void>,
  verb = 'ready again',
): Promise<void> {
  const started = Date.now();
  await restart();
  run.note(`${what} ${verb} in ${((Date.now() - started) / 1_000).toFixed(1)} s`);
}

async function allTerminal(run: ScenarioRun, timeoutMs: number): Promise<void> {
  const ids = run.traffic.accepted().flatMap((request) => request.orderId ?? []);
  await waitFor(async () => (await pendingAmong(run.ctx.pool, ids)) === 0, {
    timeoutMs,
    intervalMs: 500,
    description: 'every accepted order to leave PENDING',
  }).catch(() => undefined);
}
