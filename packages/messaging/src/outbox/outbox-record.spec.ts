import { createEvent, OrderPlaced, Topics } from '@shop/contracts';
import { toOutboxRecord } from './outbox-record';

describe('outbox record', () => {
  it('keys the message by the order id and routes it to the contract topic', () => {
    const orderId = '0b7e0c53-3c1d-4d7e-9d55-4b4a6f1e2a10';
    const event = createEvent(
      OrderPlaced,
      { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A', quantity: 1 }] },
      { correlationId: orderId, causationId: null },
    );
    expect(toOutboxRecord(OrderPlaced, event)).toEqual({
      eventId: event.eventId,
      eventType: 'OrderPlaced',
      topic: Topics.orderEvents,
      messageKey: orderId,
      payload: event,
      // Nothing is traced here (no tracer registered): no context to keep.
      traceContext: null,
    });
  });
});
