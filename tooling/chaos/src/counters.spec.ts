import type { CaughtMessage } from '@shop/devstack';
import { messageIdFor, tally, type Rows, type ScenarioScope } from './counters';
import type { OrderRequest } from './traffic';

const SKU = 'CHAOS-T-A';

function accepted(orderId: string): OrderRequest {
  return {
    key: `key-${orderId}`,
    items: [{ sku: SKU, quantity: 2 }],
    issuedAt: 0,
    state: 'accepted',
    orderId,
  };
}

function email(eventId: string, to = 'ada@example.com'): CaughtMessage {
  const now = new Date();
  return {
    from: 'orders@shop.example',
    to: [to],
    subject: '',
    text: '',
    html: '',
    messageId: messageIdFor(eventId),
    headers: {},
    receivedAt: now,
    acceptedAt: now,
  };
}

/**
 * One confirmed order, one rejected for want of stock (it asked for more than was left), and one
 * confirmed then cancelled: each with every effect it is owed, once.
 */
function consistentWorld(): { rows: Rows; scope: ScenarioScope } {
  const requests = ['o1', 'o2', 'o3'].map(accepted);
  requests[2]!.cancel = 'cancelled';
  const [confirmed, rejected, cancelled] = requests.map((request) => request.key);
  return {
    scope: { tag: 'st', skus: [{ sku: SKU, stock: 10 }], accepted: requests },
    rows: {
      orders: [
        {
          id: 'o1',
          status: 'CONFIRMED',
          idempotency_key: confirmed!,
          items: [{ sku: SKU, quantity: 2 }],
        },
        {
          id: 'o2',
          status: 'REJECTED',
          idempotency_key: rejected!,
          items: [{ sku: SKU, quantity: 7 }],
          rejection_code: 'INSUFFICIENT_STOCK',
        },
        {
          id: 'o3',
          status: 'CANCELLED',
          idempotency_key: cancelled!,
          items: [{ sku: SKU, quantity: 2 }],
        },
      ],
      announcements: [
        { order_id: 'o1', event_id: 'e1', event_type: 'OrderConfirmed' },
        { order_id: 'o2', event_id: 'e2', event_type: 'OrderRejected' },
        { order_id: 'o3', event_id: 'e4', event_type: 'OrderConfirmed' },
        { order_id: 'o3', event_id: 'e3', event_type: 'OrderCancelled' },
      ],
      reservations: [
        { order_id: 'o1', sku: SKU, quantity: 2, status: 'HELD' },
        { order_id: 'o3', sku: SKU, quantity: 2, status: 'RELEASED' },
      ],
      products: [{ sku: SKU, available: 8, reserved: 2 }],
      notifications: [
        {
          order_id: 'o1',
          event_id: 'e1',
          type: 'ORDER_CONFIRMED',
          status: 'SENT',
          deferred: false,
        },
        { order_id: 'o2', event_id: 'e2', type: 'ORDER_REJECTED', status: 'SENT', deferred: false },
        {
          order_id: 'o3',
          event_id: 'e4',
          type: 'ORDER_CONFIRMED',
          status: 'SENT',
          deferred: false,
        },
        {
          order_id: 'o3',
          event_id: 'e3',
          type: 'ORDER_CANCELLED',
          status: 'SENT',
          deferred: false,
        },
      ],
      emails: [email('e1'), email('e2'), email('e4'), email('e3')],
    },
  };
}

describe('the chaos counters', () => {
  it('find nothing wrong when every order has each effect it is owed, once', () => {
    const { rows, scope } = consistentWorld();
    expect(tally(rows, scope)).toMatchObject({
      accepted: 3,
      terminal: 3,
      lost: 0,
      duplicated: 0,
      oversold: 0,
      resends: 0,
      deferredEmails: 0,
    });
  });

  it('count an order still PENDING, or confirmed without its stock held, as lost', () => {
    const { rows, scope } = consistentWorld();
    rows.orders[1]!.status = 'PENDING';
    rows.reservations = rows.reservations.filter((row) => row.order_id !== 'o1');
    rows.products = [{ sku: SKU, available: 10, reserved: 0 }];
    expect(tally(rows, scope).lostReasons).toEqual({ pending: 1, 'confirmed-without-stock': 1 });
  });

  it('count a cancelled order whose stock is still held as a lost release', () => {
    const { rows, scope } = consistentWorld();
    rows.reservations[1]!.status = 'HELD';
    rows.products = [{ sku: SKU, available: 6, reserved: 4 }];
    expect(tally(rows, scope).lostReasons).toEqual({ 'release-lost': 1 });
  });

  it('count a missing email as lost, and one held by a claim as deferred instead', () => {
    const { rows, scope } = consistentWorld();
    rows.emails = rows.emails.slice(1);
    expect(tally(rows, scope).lostReasons).toEqual({ 'no-email': 1 });
    rows.notifications[0]!.status = 'PENDING';
    rows.notifications[0]!.deferred = true;
    expect(tally(rows, scope)).toMatchObject({ lost: 0, deferredEmails: 1 });
  });

  it('count a second order for one Idempotency-Key and units reserved twice as duplicated', () => {
    const { rows, scope } = consistentWorld();
    rows.orders.push({
      ...rows.orders[0]!,
      id: 'o1-again',
      status: 'REJECTED',
      idempotency_key: null,
    });
    rows.products = [{ sku: SKU, available: 6, reserved: 4 }];
    expect(tally(rows, scope).duplicatedReasons).toEqual({
      'duplicate-order': 1,
      'double-reservation-units': 2,
    });
  });

  it('count a release applied twice as duplicated, and stock that does not add up', () => {
    const { rows, scope } = consistentWorld();
    rows.products = [{ sku: SKU, available: 10, reserved: 0 }];
    expect(tally(rows, scope).duplicatedReasons).toEqual({ 'double-release-units': 2 });
    rows.products = [{ sku: SKU, available: 9, reserved: 2 }];
    expect(tally(rows, scope).duplicatedReasons).toEqual({ 'stock-arithmetic-units': 1 });
  });

  it('count a second email as duplicated but the same email sent again as re-sent', () => {
    const { rows, scope } = consistentWorld();
    rows.emails.push(email('e1'));
    expect(tally(rows, scope)).toMatchObject({ duplicated: 0, resends: 1 });
    rows.emails.push(email('e-other'));
    expect(tally(rows, scope).duplicatedReasons).toEqual({ 'email-without-notification': 1 });
  });

  it('count a cancel answered 202 that the order does not show, or a cancellable order refused, as lost', () => {
    const { rows, scope } = consistentWorld();
    scope.accepted[0]!.cancel = 'cancelled';
    expect(tally(rows, scope).lostReasons).toEqual({ 'cancel-not-applied': 1 });
    scope.accepted[0]!.cancel = 'refused';
    expect(tally(rows, scope).lostReasons).toEqual({ 'cancel-wrongly-refused': 1 });
    scope.accepted[1]!.cancel = 'refused';
    scope.accepted[0]!.cancel = undefined;
    expect(tally(rows, scope).lost).toBe(0);
  });

  it('count the missing email of a status the order has since left (confirmed, then cancelled) as lost', () => {
    const { rows, scope } = consistentWorld();
    rows.emails = rows.emails.filter((caught) => caught.messageId !== messageIdFor('e4'));
    expect(tally(rows, scope).lostReasons).toEqual({ 'no-email': 1 });
  });

  it('count a final status the order service never announced as lost', () => {
    const { rows, scope } = consistentWorld();
    rows.announcements = rows.announcements.filter((row) => row.event_id !== 'e3');
    expect(tally(rows, scope).lostReasons).toEqual({ 'not-announced': 1 });
  });

  it('count a rejection for want of stock that the stock left cannot explain as lost', () => {
    const { rows, scope } = consistentWorld();
    rows.orders[1]!.items = [{ sku: SKU, quantity: 6 }];
    expect(tally(rows, scope).lostReasons).toEqual({ 'rejected-though-stock-remained': 1 });
    rows.orders[1]!.items = [{ sku: SKU, quantity: 7 }];
    rows.orders[1]!.rejection_code = 'UNKNOWN_SKU';
    expect(tally(rows, scope).lostReasons).toEqual({ 'rejected-as-unknown-sku': 1 });
  });

  it('count units confirmed beyond the stock as oversold', () => {
    const { rows, scope } = consistentWorld();
    rows.orders[0]!.items = [{ sku: SKU, quantity: 12 }];
    rows.reservations[0]!.quantity = 12;
    rows.products = [{ sku: SKU, available: -2, reserved: 12 }];
    expect(tally(rows, scope).oversold).toBe(2);
  });
});
