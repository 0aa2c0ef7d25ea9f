import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { orderService } from '../src/service';
import { corpusFor, sendApiRequest, wronglyAnswered } from '@shop/devstack';

let sut: ServiceUnderTest<unknown>;

beforeAll(async () => {
  sut = await startServiceUnderTest(orderService);
});

afterAll(async () => {
  await sut?.stop();
});

describe('bad input to the order service', () => {
  it('answers every request of the bad-request corpus with a 4xx JSON naming the field, and writes nothing', async () => {
    const { bad } = await corpusFor('order', sut.url);
    expect(bad.length).toBeGreaterThanOrEqual(100);
    const before = await sut.tables();
    expect(await wronglyAnswered(sut.url, bad)).toEqual([]);
    expect(await sut.tables()).toEqual(before);
  });

  it('accepts the valid request that each bad one is derived from', async () => {
    const { examples } = await corpusFor('order', sut.url);
    const statuses = Object.fromEntries(
      await Promise.all(
        examples.map(async (request) => [
          request.name,
          (await sendApiRequest(sut.url, request)).status,
        ]),
      ),
    );
    expect(statuses).toEqual({
      'POST /orders: valid example': 202,
      'GET /orders: valid example': 200,
      // Valid ids of orders that do not exist.
      'GET /orders/{id}: valid example': 404,
      'POST /orders/{id}/cancel: valid example': 404,
    });
  });

  it('answers GET /orders with a cursor it never issued with 400 naming cursor', async () => {
    const forged = Buffer.from(JSON.stringify(['2025-01-01T00:00:00.000Z', 'not-a-uuid'])).toString(
      'base64url',
    );
    for (const cursor of ['not-a-cursor', forged]) {
      const answer = await sendApiRequest(sut.url, {
        service: 'order',
        method: 'GET',
        path: `/orders?cursor=${cursor}`,
        headers: {},
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ issues: [{ field: 'cursor' }] });
    }
  });
});
