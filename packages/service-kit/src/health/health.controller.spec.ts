import type { Response } from 'express';
import type { Pool } from 'pg';
import type { KafkaEventPublisher, KafkaEventServer } from '@shop/messaging';
import type { Logger } from '@shop/logging';
import { HealthController } from './health.controller';

interface Answer {
  status: number;
  body: {
    status: string;
    missing: string[];
    checks: Record<string, { ok: boolean; detail?: string }>;
  };
}

function fakeResponse(answer: Partial<Answer>): Response {
  const response = {
    status(code: number) {
      answer.status = code;
      return response;
    },
    json(body: Answer['body']) {
      answer.body = body;
      return response;
    },
  };
  return response as unknown as Response;
}

function controller(options: {
  databaseUp: boolean;
  joined: boolean;
  producerConnected?: boolean;
}) {
  const pool = {
    query: async () => {
      if (!options.databaseUp) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return { rows: [] };
    },
  } as unknown as Pool;
  const consumer = {
    isReady: options.joined,
    consumerState: options.joined ? 'joined' : 'joining',
    handledContracts: () => [{}],
  } as unknown as KafkaEventServer;
  const publisher =
    options.producerConnected === undefined
      ? undefined
      : ({ isConnected: options.producerConnected } as unknown as KafkaEventPublisher);
  const logger = { warn: () => undefined } as unknown as Logger;
  return new HealthController(pool, consumer, logger, publisher);
}

async function check(options: Parameters<typeof controller>[0]): Promise<Answer> {
  const answer: Partial<Answer> = {};
  await controller(options).check(fakeResponse(answer));
  return answer as Answer;
}

describe('health', () => {
  it('answers 200 when the database answers, the producer is connected and the consumer has joined', async () => {
    const answer = await check({ databaseUp: true, joined: true, producerConnected: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ok', missing: [] });
  });

  it('answers 503 naming the database when it does not answer', async () => {
    const answer = await check({ databaseUp: false, joined: true, producerConnected: true });
    expect(answer.status).toBe(503);
    expect(answer.body.missing).toEqual(['database']);
    expect(answer.body.checks.database?.detail).toBe('the database did not answer');
    expect(JSON.stringify(answer.body)).not.toContain('ECONNREFUSED');
  });

  it('answers 503 naming the consumer while it has not joined its group', async () => {
    const answer = await check({ databaseUp: true, joined: false });
    expect(answer.status).toBe(503);
    expect(answer.body.missing).toEqual(['kafkaConsumer']);
    expect(answer.body.checks.kafkaConsumer?.detail).toContain('joining');
  });

  it('answers 503 naming the producer when it lost Kafka', async () => {
    const answer = await check({ databaseUp: true, joined: true, producerConnected: false });
    expect(answer.body.missing).toEqual(['kafkaProducer']);
  });
});
