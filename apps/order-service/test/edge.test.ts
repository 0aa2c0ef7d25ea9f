import { connect } from 'node:net';
import { authHeader } from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { PrismaService } from '../src/prisma/prisma.service';
import { orderService } from '../src/service';

const WRITES_PER_MINUTE = 3;
let sut: ServiceUnderTest<unknown>;
let ada: { authorization: string };

beforeAll(async () => {
  ada = await authHeader('ada');
  sut = await startServiceUnderTest(orderService, {
    HTTP_REQUEST_TIMEOUT_MS: '1000',
    HTTP_WRITES_PER_MINUTE: String(WRITES_PER_MINUTE),
  });
});

afterAll(async () => {
  await sut?.stop();
});

async function orderCount(): Promise<number> {
  const prisma = sut.running.app.get(PrismaService);
  return prisma.order.count();
}

/** Sends the head of a request and part of its body, then nothing: what the server answers. */
function sendUnfinishedRequest(url: string, head: string, bodyPart: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head + bodyPart));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('the order service at its HTTP edge', () => {
  it('answers a request whose body never finishes arriving with 408 and closes it, storing nothing', async () => {
    const before = await orderCount();
    const body = JSON.stringify({ items: [{ sku: 'A-1', quantity: 1 }] });
    const answer = await sendUnfinishedRequest(
      sut.url,
      `POST /orders HTTP/1.1\r\nHost: x\r\nAuthorization: ${ada.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 50_000}\r\n\r\n`,
      body,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await orderCount()).toBe(before);
  });

  it('answers with security headers and does not say what it runs on', async () => {
    const answer = await fetch(`${sut.url}/orders?limit=1`, { headers: ada });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-powered-by')).toBeNull();
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    const policy = answer.headers.get('content-security-policy');
    expect(policy).toContain("default-src 'self'");
    expect(policy).not.toContain('upgrade-insecure-requests');
  });

  it('limits writes per client and minute with 429 and Retry-After, and never limits reads', async () => {
    const place = () =>
      fetch(`${sut.url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ada },
        body: JSON.stringify({ items: [{ sku: 'A-1', quantity: 1 }] }),
      });
    const before = await orderCount();
    const statuses: number[] = [];
    for (let index = 0; index < WRITES_PER_MINUTE + 2; index += 1) {
      statuses.push((await place()).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const refused = await place();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ statusCode: 429 });
    expect(await orderCount()).toBe(before + WRITES_PER_MINUTE);
    for (let index = 0; index < 10; index += 1) {
      expect((await fetch(`${sut.url}/orders?limit=1`, { headers: ada })).status).toBe(200);
    }
  });

  it('serves no API document when told not to (API_DOCS=false)', async () => {
    const quiet = await startServiceUnderTest(orderService, { API_DOCS: 'false' });
    try {
      expect((await fetch(`${quiet.url}/docs/openapi.json`)).status).toBe(404);
      expect((await fetch(`${quiet.url}/docs`)).status).toBe(404);
    } finally {
      await quiet.stop();
    }
    expect((await fetch(`${sut.url}/docs/openapi.json`)).status).toBe(200);
  });
});
