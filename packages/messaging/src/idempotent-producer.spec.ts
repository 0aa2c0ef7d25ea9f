import {
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  type Kafka,
  type Producer,
  type ProducerBatch,
} from 'kafkajs';
import { hasLostProducerState, IdempotentProducer } from './idempotent-producer';

function protocolError(type: string, code: number): KafkaJSProtocolError {
  return new KafkaJSProtocolError({ message: type, type, code, retriable: false } as never);
}

describe('hasLostProducerState', () => {
  it('recognises the broker forgetting the producer, however kafkajs wraps it', () => {
    const outOfOrder = protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45);
    expect(hasLostProducerState(outOfOrder)).toBe(true);
    expect(hasLostProducerState(protocolError('UNKNOWN_PRODUCER_ID', 59))).toBe(true);
    // As kafkajs' retrier rejects: a non-retriable error whose cause is the broker's answer.
    const wrapped = Object.assign(new KafkaJSNonRetriableError(outOfOrder), { cause: outOfOrder });
    expect(hasLostProducerState(wrapped)).toBe(true);
    const exhausted = new KafkaJSNumberOfRetriesExceeded(wrapped, { retryCount: 5, retryTime: 1 });
    expect(hasLostProducerState(exhausted)).toBe(true);
  });

  it('leaves other failures alone', () => {
    expect(hasLostProducerState(protocolError('REQUEST_TIMED_OUT', 7))).toBe(false);
    expect(hasLostProducerState(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(hasLostProducerState(undefined)).toBe(false);
  });
});

describe('IdempotentProducer', () => {
  /** kafkajs producers whose sends fail with the given errors, one per producer created. */
  function kafkaFailingWith(failures: Array<Error | undefined>) {
    const producers: Array<{ connects: number; disconnects: number; sent: number }> = [];
    const kafka = {
      producer: () => {
        const state = { connects: 0, disconnects: 0, sent: 0 };
        const failure = failures[producers.length];
        producers.push(state);
        const producer = {
          events: { CONNECT: 'connect', DISCONNECT: 'disconnect' },
          on: () => undefined,
          connect: async () => void (state.connects += 1),
          disconnect: async () => void (state.disconnects += 1),
          sendBatch: async () => {
            if (failure) throw failure;
            state.sent += 1;
            return [];
          },
        };
        return producer as unknown as Producer;
      },
    } as unknown as Kafka;
    return { kafka, producers };
  }
  const batch: ProducerBatch = { topicMessages: [{ topic: 't', messages: [{ value: 'v' }] }] };

  it('starts over with a new producer once the broker has lost its sequence numbers', async () => {
    const outOfOrder = protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45);
    const lost = Object.assign(new KafkaJSNonRetriableError(outOfOrder), { cause: outOfOrder });
    const { kafka, producers } = kafkaFailingWith([lost, undefined]);
    const producer = new IdempotentProducer(kafka, {});
    await producer.connect();

    await expect(producer.sendBatch(batch)).rejects.toBe(lost);
    await producer.sendBatch(batch);

    expect(producers).toEqual([
      { connects: 1, disconnects: 1, sent: 0 },
      { connects: 1, disconnects: 0, sent: 1 },
    ]);
  });

  it('keeps its producer through other failures', async () => {
    const down = new Error('connect ECONNREFUSED');
    const { kafka, producers } = kafkaFailingWith([down]);
    const producer = new IdempotentProducer(kafka, {});
    await producer.connect();

    await expect(producer.sendBatch(batch)).rejects.toBe(down);

    expect(producers).toEqual([{ connects: 1, disconnects: 0, sent: 0 }]);
  });
});
