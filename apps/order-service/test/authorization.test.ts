import { randomUUID } from 'node:crypto';
import { OrderPlaced } from '@shop/contracts';
import { authHeader, requestJson, seededEmail, type Identity } from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { orderService } from '../src/service';

let sut: ServiceUnderTest<unknown>;

beforeAll(async () => {
  sut = await startServiceUnderTest(orderService);
});

afterAll(async () => {
  await sut?.stop();
});

interface OrderBody {
  id: string;
  status: string;
  customerEmail: string;
}

interface ErrorBody {
  statusCode: number;
  issues?: Array<{ field: string; problem: string }>;
}

async function as<T>(identity: Identity, method: string, path: string, body?: unknown) {
  return requestJson<T>(method, `${sut.url}${path}`, body, await authHeader(identity));
}

async function placeAs(identity: Identity): Promise<OrderBody> {
  const answer = await as<OrderBody>(identity, 'POST', '/orders', {
    items: [{ sku: 'KB-1', quantity: 1 }],
  });
  expect(answer.status).toBe(202);
  return answer.body;
}

describe('who may do what with orders', () => {
  it('refuses a request without a token with 401 and a Bearer challenge, storing nothing', async () => {
    const before = await sut.tables();
    const answer = await requestJson<ErrorBody>('POST', `${sut.url}/orders`, {
      items: [{ sku: 'KB-1', quantity: 1 }],
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="order-flow"/);
    expect(answer.body.issues).toEqual([{ field: 'authorization', problem: expect.any(String) }]);
    expect((await requestJson('GET', `${sut.url}/orders`)).status).toBe(401);
    expect(await sut.tables()).toEqual(before);
  });

  it('answers a token it cannot trust with 401 and error="invalid_token"', async () => {
    const answer = await requestJson('GET', `${sut.url}/orders`, undefined, {
      authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.',
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('places the order for the caller, to the email their token carries, and announces it so', async () => {
    const order = await placeAs('grace');
    expect(order.customerEmail).toBe(seededEmail('grace'));
    const [placed] = await sut.probe.waitForType(OrderPlaced.type, order.id);
    expect(placed?.event).toMatchObject({ payload: { customerEmail: 'grace@example.com' } });
  });

  it('refuses an email in the body with 400 saying it comes from the token', async () => {
    const answer = await as<ErrorBody>('ada', 'POST', '/orders', {
      customerEmail: 'someone-else@example.com',
      items: [{ sku: 'KB-1', quantity: 1 }],
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.issues)).toContain('access token');
  });

  it('shows a customer only their own orders: someone else’s is 404 to read or cancel, and missing from their list', async () => {
    const adas = await placeAs('ada');
    const alans = await placeAs('alan');

    expect((await as('ada', 'GET', `/orders/${adas.id}`)).status).toBe(200);
    const foreign = await as<ErrorBody>('ada', 'GET', `/orders/${alans.id}`);
    expect(foreign.status).toBe(404);
    // Indistinguishable from an order that does not exist.
    const missing = await as<ErrorBody>('ada', 'GET', `/orders/${randomUUID()}`);
    expect(missing.status).toBe(404);

    const cancel = await as('ada', 'POST', `/orders/${alans.id}/cancel`);
    expect(cancel.status).toBe(404);
    expect((await as<OrderBody>('alan', 'GET', `/orders/${alans.id}`)).body.status).toBe('PENDING');

    const list = await as<{ items: OrderBody[] }>('ada', 'GET', '/orders?limit=100');
    const emails = new Set(list.body.items.map((order) => order.customerEmail));
    expect([...emails]).toEqual(['ada@example.com']);
    expect(list.body.items.map((order) => order.id)).toContain(adas.id);
  });

  it('lets a customer cancel their own order', async () => {
    const order = await placeAs('alan');
    const cancel = await as<OrderBody>('alan', 'POST', `/orders/${order.id}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.body.status).toBe('CANCELLED');
  });

  it('lets an admin see and cancel every order, but not place one', async () => {
    const adas = await placeAs('ada');
    const grace = await placeAs('grace');
    const list = await as<{ items: OrderBody[] }>('admin', 'GET', '/orders?limit=100');
    const ids = list.body.items.map((order) => order.id);
    expect(ids).toEqual(expect.arrayContaining([adas.id, grace.id]));
    expect((await as('admin', 'GET', `/orders/${grace.id}`)).status).toBe(200);
    expect((await as('admin', 'POST', `/orders/${grace.id}/cancel`)).status).toBe(202);

    const placing = await as<ErrorBody>('admin', 'POST', '/orders', {
      items: [{ sku: 'KB-1', quantity: 1 }],
    });
    expect(placing.status).toBe(403);
    expect(placing.body.issues?.[0]?.problem).toContain('customer');
  });

  it('refuses an operator tool every order route with 403: it watches the flow, it does not shop', async () => {
    const order = await placeAs('ada');
    for (const [method, path] of [
      ['GET', '/orders'],
      ['GET', `/orders/${order.id}`],
      ['POST', `/orders/${order.id}/cancel`],
    ] as const) {
      expect((await as('shop-operator', method, path)).status).toBe(403);
    }
  });

  it('lets operators and admins, not customers, read the internal endpoints; /health stays open', async () => {
    expect((await as('shop-operator', 'GET', '/internal/figures')).status).toBe(200);
    expect((await as('admin', 'GET', '/internal/figures')).status).toBe(200);
    expect((await as('ada', 'GET', '/internal/figures')).status).toBe(403);
    expect((await requestJson('GET', `${sut.url}/internal/figures`)).status).toBe(401);
    expect((await requestJson('GET', `${sut.url}/health`)).status).toBe(200);
  });
});
