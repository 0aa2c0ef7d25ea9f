import { createEvent, OrderCancelled, OrderConfirmed, OrderRejected } from '@shop/contracts';
import { renderEmail, shortOrderId } from './email-templates';

const orderId = '1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d';
const customerEmail = 'ada@example.com';
const items = [
  { sku: 'BOOK-42', quantity: 2 },
  { sku: 'PEN-7', quantity: 1 },
];
const context = { correlationId: orderId, causationId: null };

describe('email templates', () => {
  it('names the order by the first eight characters of its id', () => {
    expect(shortOrderId(orderId)).toBe('1a2b3c4d');
  });

  it('tells the customer a confirmed order is confirmed and lists every item with its quantity', () => {
    const email = renderEmail(
      createEvent(OrderConfirmed, { orderId, customerEmail, items }, context),
    );

    expect(email.type).toBe('ORDER_CONFIRMED');
    expect(email.subject).toBe('Your order 1a2b3c4d is confirmed');
    expect(email.text).toContain('  - BOOK-42 × 2\n  - PEN-7 × 1');
    expect(email.text).toContain(`Order reference: ${orderId}`);
  });

  it('gives the reason when an order is rejected for lack of stock', () => {
    const reason = {
      code: 'INSUFFICIENT_STOCK',
      sku: 'BOOK-42',
      requested: 5,
      available: 2,
    } as const;
    const email = renderEmail(
      createEvent(OrderRejected, { orderId, customerEmail, reason }, context),
    );

    expect(email.type).toBe('ORDER_REJECTED');
    expect(email.subject).toBe('Your order 1a2b3c4d could not be accepted');
    expect(email.text).toContain(
      'Reason: insufficient stock for SKU BOOK-42: requested 5, available 2.',
    );
  });

  it('names the unknown SKU when an order is rejected for one', () => {
    const reason = { code: 'UNKNOWN_SKU', sku: 'NOPE-1' } as const;
    const email = renderEmail(
      createEvent(OrderRejected, { orderId, customerEmail, reason }, context),
    );

    expect(email.text).toContain('Reason: unknown SKU NOPE-1.');
  });

  it('says a cancelled order is cancelled and that its reserved stock is released', () => {
    const email = renderEmail(
      createEvent(
        OrderCancelled,
        { orderId, customerEmail, items, previousStatus: 'CONFIRMED' },
        context,
      ),
    );

    expect(email.type).toBe('ORDER_CANCELLED');
    expect(email.subject).toBe('Your order 1a2b3c4d is cancelled');
    expect(email.text).toContain('Any stock reserved for it has been released.');
    expect(email.text).toContain('  - BOOK-42 × 2\n  - PEN-7 × 1');
  });
});
