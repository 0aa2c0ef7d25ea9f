import { randomUUID } from 'node:crypto';
import { ALL_TOPICS } from '@shop/contracts';
import type { ServiceName } from '@shop/database';
import {
  authHeader,
  createTestDatabase,
  freePort,
  requestJson,
  resetTopics,
  seededClientSecret,
  spawnService,
  startSmtpCatcher,
  testAuthIssuerUrl,
  testKafkaBrokers,
  type Identity,
  type ServiceProcess,
  type SmtpCatcher,
  type TestDatabase,
  devstackKafkaEnv,
} from '@shop/devstack';

/** The three services as real processes on one fresh database, with an SMTP server inside the test. */
export interface TestStack {
  order: ServiceProcess;
  inventory: ServiceProcess;
  notification: ServiceProcess;
  smtp: SmtpCatcher;
  database: TestDatabase;
  /** The consumer group each service's replicas share. */
  groupOf(name: ServiceName): string;
  /** One more process of a service, configured like the first (same group, same database). */
  startReplica(name: ServiceName): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** `env` is added to every service's environment (e.g. where to send spans). */
export async function startTestStack(
  options: { env?: Record<string, string> } = {},
): Promise<TestStack> {
  const brokers = testKafkaBrokers();
  await resetTopics(brokers, ALL_TOPICS);
  const database = await createTestDatabase('e2e');
  const smtp = await startSmtpCatcher();
  const run = randomUUID().slice(0, 8);
  const groupOf = (name: ServiceName) => `${name}-e2e-${run}`;
  const started: ServiceProcess[] = [];
  const start = async (name: ServiceName) => {
    const service = await spawnService({
      name,
      port: await freePort(),
      env: {
        ...database.envFor(name),
        KAFKA_BROKERS: brokers,
        ...devstackKafkaEnv(name),
        KAFKA_GROUP_ID: groupOf(name),
        AUTH_ISSUER_URL: testAuthIssuerUrl(),
        LOG_LEVEL: 'warn',
        // The tests send bursts (200 orders at once) from one address: no write limit here.
        HTTP_WRITES_PER_MINUTE: '0',
        ...(name === 'notification-service' ? { SMTP_URL: smtp.url } : {}),
        ...options.env,
      },
    });
    started.push(service);
    return service;
  };
  const [order, inventory, notification] = await Promise.all([
    start('order-service'),
    start('inventory-service'),
    start('notification-service'),
  ]);
  return {
    order,
    inventory,
    notification,
    smtp,
    database,
    groupOf,
    startReplica: start,
    stop: async () => {
      // Every process started, replicas included; stopping one already stopped is a no-op.
      await Promise.allSettled(started.map((service) => service.stop()));
      await smtp.stop();
      await database.drop();
    },
  };
}

/** The flow console watching a test stack, in a consumer group of its own. */
export async function startFlowConsole(stack: TestStack): Promise<ServiceProcess> {
  return spawnService({
    name: 'flow-console',
    port: await freePort(),
    env: {
      KAFKA_BROKERS: testKafkaBrokers(),
      ...devstackKafkaEnv('flow-console'),
      KAFKA_GROUP_ID: `flow-console-e2e-${randomUUID().slice(0, 8)}`,
      ORDER_SERVICE_URLS: stack.order.baseUrl,
      INVENTORY_SERVICE_URLS: stack.inventory.baseUrl,
      NOTIFICATION_SERVICE_URLS: stack.notification.baseUrl,
      POLL_INTERVAL_MS: '500',
      AUTH_ISSUER_URL: testAuthIssuerUrl(),
      AUTH_CLIENT_SECRET: seededClientSecret('flow-console'),
      LOG_LEVEL: 'warn',
    },
  });
}

export interface Order {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  customerEmail: string;
  items: Array<{ sku: string; quantity: number }>;
  rejectionReason?: string;
}

export interface Product {
  sku: string;
  available: number;
  reserved: number;
}

export async function putProduct(stack: TestStack, sku: string, stock: number): Promise<void> {
  const response = await requestJson(
    'PUT',
    `${stack.inventory.baseUrl}/products/${sku}`,
    { name: sku, stock },
    await authHeader('admin'),
  );
  if (response.status !== 200) throw new Error(`PUT /products/${sku} answered ${response.status}`);
}

export async function getProduct(stack: TestStack, sku: string): Promise<Product> {
  const url = `${stack.inventory.baseUrl}/products/${sku}`;
  return (await requestJson<Product>('GET', url, undefined, await authHeader('admin'))).body;
}

/** Places an order as a seeded customer: it is mailed to that customer's address. */
export async function placeOrder(
  stack: TestStack,
  items: Order['items'],
  customer: Identity = 'ada',
): Promise<Order> {
  const response = await requestJson<Order>(
    'POST',
    `${stack.order.baseUrl}/orders`,
    { items },
    await authHeader(customer),
  );
  if (response.status !== 202)
    throw new Error(`POST /orders answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Any order, as an admin sees it. */
export async function getOrder(stack: TestStack, id: string): Promise<Order> {
  const url = `${stack.order.baseUrl}/orders/${id}`;
  return (await requestJson<Order>('GET', url, undefined, await authHeader('admin'))).body;
}

/** The short order reference the notification service puts in every subject. */
export function orderReference(subject: string): string | undefined {
  return /^Your order (\S+)/.exec(subject)?.[1];
}
