import { createEvent, decodeEvent } from './registry';
import { OrderPlaced } from './events/order-placed.event';
import { OrderCancelled } from './events/order-cancelled.event';

const orderId = '2b0c7f4e-8a4f-4c59-9d0b-0b3c4f3f1a11';
const context = { correlationId: orderId, causationId: null };

describe('event contracts', () => {
  it('creates an event with a fresh id, its type, version and timestamp', () => {
    const event = createEvent(
      OrderPlaced,
      { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 2 }] },
      context,
    );
    expect(event).toMatchObject({ type: 'OrderPlaced', version: 1, correlationId: orderId });
    expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses to create an event whose payload breaks the contract', () => {
    expect(() =>
      createEvent(OrderPlaced, { orderId, customerEmail: 'not-an-email', items: [] }, context),
    ).toThrow(/customerEmail.*items|items.*customerEmail/s);
  });

  it('decodes a valid message into its contract and ignores fields it does not know', () => {
    const event = createEvent(
      OrderPlaced,
      { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
      context,
    );
    const raw = JSON.stringify({
      ...event,
      extra: true,
      payload: { ...event.payload, gift: true },
    });
    const decoded = decodeEvent(raw, [OrderPlaced]);
    expect(decoded.kind).toBe('event');
    if (decoded.kind === 'event') expect(decoded.event.payload).not.toHaveProperty('gift');
  });

  it('reports malformed JSON as invalid', () => {
    const decoded = decodeEvent('{not json', [OrderPlaced]);
    expect(decoded.kind).toBe('invalid');
  });

  it('reports an unknown version of a handled type as invalid, naming the versions it reads', () => {
    const event = createEvent(
      OrderPlaced,
      { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
      context,
    );
    const decoded = decodeEvent(JSON.stringify({ ...event, version: 7 }), [OrderPlaced]);
    expect(decoded.kind).toBe('invalid');
    if (decoded.kind === 'invalid') {
      expect(decoded.error.message).toContain('version 7 is unknown');
      expect(decoded.error.eventId).toBe(event.eventId);
    }
  });

  it('passes over event types the consumer does not handle', () => {
    const event = createEvent(
      OrderPlaced,
      { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
      context,
    );
    expect(decodeEvent(JSON.stringify(event), [OrderCancelled]).kind).toBe('unhandled');
  });

  it('names the field that breaks the contract', () => {
    const event = createEvent(
      OrderPlaced,
      { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
      context,
    );
    const broken = {
      ...event,
      payload: { ...event.payload, items: [{ sku: 'A-1', quantity: -1 }] },
    };
    const decoded = decodeEvent(JSON.stringify(broken), [OrderPlaced]);
    expect(decoded.kind === 'invalid' && decoded.error.message).toContain(
      'payload.items.0.quantity',
    );
  });
});
