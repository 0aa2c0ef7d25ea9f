import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { waitFor, devstackKafkaSasl } from '@shop/devstack';
import { distribution } from './stats';

/**
 * What this machine does today with nothing of ours in the way, measured in the same run as the
 * benchmark: the same command gives very different figures on different days, so results are
 * reported beside these and as ratios to them.
 */
export interface Calibration {
  /** CPU of a bare node:http server per keep-alive answer, in microseconds. */
  httpCpuUsPerAnswer: number;
  /** One-row INSERT commits per second, one client, the bench's Postgres settings. */
  pgCommitsPerSecond: number;
  /** Produce (acks=all) → consume round trip on the bench's broker, p50 in ms. */
  kafkaRoundTripMsP50: number;
}

const HTTP_ANSWERS = 3_000;
const PG_SECONDS = 2;
const KAFKA_ROUND_TRIPS = 40;

export async function calibrate(brokers: string, databaseUrl: string): Promise<Calibration> {
  return {
    httpCpuUsPerAnswer: await httpCpuPerAnswer(),
    pgCommitsPerSecond: await pgCommitRate(databaseUrl),
    kafkaRoundTripMsP50: await kafkaRoundTrip(brokers),
  };
}

// The server runs in a process of its own, so its CPU is not mixed with the client's.
const BARE_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/cpu') { const u = process.cpuUsage(); res.end(String(u.user + u.system)); return; }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function httpCpuPerAnswer(): Promise<number> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(chunk.toString().trim());
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, agent }, (response) => {
          let body = '';
          response.on('data', (data: Buffer) => (body += data.toString()));
          response.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end();
      });
    for (let i = 0; i < 200; i++) await get('/'); // JIT and sockets warm first
    const before = Number(await get('/cpu'));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next++ < HTTP_ANSWERS) await get('/');
      }),
    );
    const after = Number(await get('/cpu'));
    agent.destroy();
    return Math.round(((after - before) / HTTP_ANSWERS) * 10) / 10;
  } finally {
    child.kill();
  }
}

async function pgCommitRate(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const table = `bench_calibration_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  try {
    await client.query(
      `CREATE TABLE ${table} (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())`,
    );
    const started = performance.now();
    let commits = 0;
    while (performance.now() - started < PG_SECONDS * 1_000) {
      await client.query(`INSERT INTO ${table} DEFAULT VALUES`);
      commits += 1;
    }
    return Math.round(commits / ((performance.now() - started) / 1_000));
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await client.end();
  }
}

async function kafkaRoundTrip(brokers: string): Promise<number> {
  const kafka = new Kafka({
    clientId: 'bench-calibration',
    brokers: brokers.split(','),
    sasl: devstackKafkaSasl(),
    logLevel: logLevel.NOTHING,
  });
  const topic = `bench-calibration-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 500 });
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const arrived = new Map<string, () => void>();
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      eachMessage: async ({ message }) => arrived.get(message.value?.toString() ?? '')?.(),
    });
    await waitFor(() => joined, {
      timeoutMs: 30_000,
      description: 'the calibration consumer to join',
    });
    const trips: number[] = [];
    for (let i = 0; i < KAFKA_ROUND_TRIPS + 5; i++) {
      const id = randomUUID();
      const received = new Promise<void>((resolve) => arrived.set(id, resolve));
      const sent = performance.now();
      await producer.send({ topic, acks: -1, messages: [{ value: id }] });
      await received;
      if (i >= 5) trips.push(performance.now() - sent);
    }
    return distribution(trips).p50 ?? Number.NaN;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.deleteGroups([topic]).catch(() => undefined);
    await admin.disconnect();
  }
}
