import type { Kafka, Producer, ProducerBatch, ProducerConfig } from 'kafkajs';

/** Broker answers meaning it no longer knows this producer's id or sequence numbers. */
const LOST_PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
]);

/** True if the error, or any error it wraps, is one of those answers. */
export function hasLostProducerState(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { type, cause, errors } = error as { type?: unknown; cause?: unknown; errors?: unknown };
  if (typeof type === 'string' && LOST_PRODUCER_STATE.has(type)) return true;
  if (cause !== undefined && cause !== error && hasLostProducerState(cause)) return true;
  return Array.isArray(errors) && errors.some(hasLostProducerState);
}

/**
 * An idempotent kafkajs producer that starts over with a new producer id when the broker has lost
 * track of its sequence numbers. After a broker restart kafkajs can fail every send with
 * OUT_OF_ORDER_SEQUENCE_NUMBER until the producer is recreated (tulios/kafkajs#598); what was not
 * acknowledged is sent again by the caller, and consumers drop the duplicates by event id.
 */
export class IdempotentProducer {
  private producer: Producer;
  private connected = false;
  private replaced = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: Omit<ProducerConfig, 'idempotent'>,
  ) {
    this.producer = this.create();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  /** Sends with the broker's acknowledgement; a failure leaves the producer ready for a retry. */
  async sendBatch(batch: ProducerBatch): Promise<void> {
    if (this.replaced) {
      await this.producer.connect();
      this.replaced = false;
    }
    try {
      await this.producer.sendBatch(batch);
    } catch (error) {
      if (hasLostProducerState(error)) await this.replace();
      throw error;
    }
  }

  private async replace(): Promise<void> {
    const broken = this.producer;
    this.producer = this.create();
    this.replaced = true;
    await broken.disconnect().catch(() => undefined);
  }

  private create(): Producer {
    const producer = this.kafka.producer({ ...this.config, idempotent: true });
    producer.on(producer.events.CONNECT, () => {
      if (producer === this.producer) this.connected = true;
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
    return producer;
  }
}
