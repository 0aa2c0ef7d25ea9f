import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { waitFor } from '@shop/devstack';
import { startEmailSink, type EmailSink } from '../src/email-sink';

/** One email over a plain SMTP conversation, as the notification service's emails read. */
async function sendEmail(url: string, orderId: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setEncoding('utf8');
  let received = '';
  const answers: Array<() => void> = [];
  socket.on('data', (chunk: string) => {
    received += chunk;
    // A reply is complete when its last line has a space after the code ("250 OK").
    while (/^\d{3} .*\r\n/m.test(received)) {
      received = received.replace(/^(\d{3}-.*\r\n)*\d{3} .*\r\n/, '');
      answers.shift()?.();
    }
  });
  const say = (line: string): Promise<void> =>
    new Promise((resolve) => {
      answers.push(resolve);
      socket.write(`${line}\r\n`);
    });
  await new Promise<void>((resolve) => answers.push(resolve));
  await say('EHLO bench-test');
  await say('MAIL FROM:<orders@shop.example>');
  await say('RCPT TO:<ada@example.com>');
  await say('DATA');
  await say(`Subject: Your order\r\n\r\nOrder reference: ${orderId}\r\n.`);
  await say('QUIT');
  socket.end();
}

describe('the benchmark SMTP sink', () => {
  let sink: EmailSink;

  beforeAll(async () => {
    sink = await startEmailSink(0);
  });

  afterAll(async () => {
    await sink?.stop();
  });

  it('stamps the first email of an order and counts every further one as repeated', async () => {
    const once = randomUUID();
    const twice = randomUUID();
    await sendEmail(sink.url, once);
    await sendEmail(sink.url, twice);
    await sendEmail(sink.url, twice);
    await waitFor(
      () => sink.countReceived([once, twice]) === 2 && sink.countRepeated([twice]) === 1,
      {
        timeoutMs: 10_000,
        description: 'the sink to report the three emails',
      },
    );
    expect(sink.countRepeated([once])).toBe(0);
    expect(sink.stampFor(once)?.acceptedAt).toBeGreaterThanOrEqual(
      sink.stampFor(once)?.receivedAt ?? Number.POSITIVE_INFINITY,
    );
    sink.forget([once, twice]);
    expect(sink.countReceived([once, twice])).toBe(0);
    expect(sink.countRepeated([twice])).toBe(0);
  });
});
