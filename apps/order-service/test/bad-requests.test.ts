import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { orderService } from '../src/service';
import {
  authHeader,
  corpusFor,
  sendApiRequest,
  testCorpusCredentials,
  wronglyAnswered,
  type CorpusCredentials,
} from '@shop/devstack';

let sut: ServiceUnderTest<unknown>;
let credentials: CorpusCredentials;

beforeAll(async () => {
  credentials = await testCorpusCredentials();
  sut = await startServiceUnderTest(orderService);
});

afterAll(async () => {
  await sut?.stop();
});

describe('bad input to the order service', () => {
  it('answers every request of the bad-request corpus with a 4xx JSON naming the field, and writes nothing', async () => {
    const { bad } = await corpusFor('order', sut.url, credentials);
    expect(bad.length).toBeGreaterThanOrEqual(100);
    // Every route is asked without, with a malformed, a refused and an under-privileged token.
    for (const route of [
      'POST /orders',
      'GET /orders',
      'GET /orders/{id}',
      'POST /orders/{id}/cancel',
    ]) {
      expect(
        bad.filter((request) => request.name.startsWith(`${route} Authorization`)),
      ).toHaveLength(15);
    }
    const before = await sut.tables();
    expect(await wronglyAnswered(sut.url, bad)).toEqual([]);
    expect(await sut.tables()).toEqual(before);
  });

  it('accepts the valid request that each bad one is derived from', async () => {
    const { examples } = await corpusFor('order', sut.url, credentials);
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
        headers: await authHeader('ada'),
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ issues: [{ field: 'cursor' }] });
    }
  });
});
