import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface CaughtMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  /** When the end of DATA arrived and the message was parsed. */
  receivedAt: Date;
  /** When the server answered the end of DATA (after delayMs): the sender's send resolves then. */
  acceptedAt: Date;
}

export interface SmtpCatcherOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Delays the reply to the end of DATA: a slow mail provider. */
  delayMs?: number;
}

export interface SmtpCatcher {
  port: number;
  url: string;
  messages(): CaughtMessage[];
  clear(): void;
  waitForMessages(
    predicate: (message: CaughtMessage) => boolean,
    count?: number,
    timeoutMs?: number,
  ): Promise<CaughtMessage[]>;
  stop(): Promise<void>;
}

/** A real SMTP server that keeps every message in memory, for tests. */
export async function startSmtpCatcher(options: SmtpCatcherOptions = {}): Promise<SmtpCatcher> {
  let received: CaughtMessage[] = [];
  const arrivals = new EventEmitter();
  arrivals.setMaxListeners(0);
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => {
      receive(stream, session)
        .then(async (message) => {
          if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
          received.push({ ...message, acceptedAt: new Date() });
          arrivals.emit('message');
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  const port = await listen(server, options.port ?? 0);

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages: () => [...received],
    clear: () => {
      received = [];
    },
    waitForMessages: (predicate, count = 1, timeoutMs = 10_000) =>
      waitForMatches(() => received, arrivals, predicate, count, timeoutMs),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function listen(server: SMTPServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      // A client dropping mid-session must not crash the test process.
      server.on('error', () => undefined);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

async function receive(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
): Promise<Omit<CaughtMessage, 'acceptedAt'>> {
  const parsed = await simpleParser(stream);
  const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return {
    from: envelopeFrom || firstAddress(parsed.from),
    to: session.envelope.rcptTo.map((recipient) => recipient.address),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    messageId: parsed.messageId ?? '',
    headers: flattenHeaders(parsed),
    receivedAt: new Date(),
  };
}

function firstAddress(address: AddressObject | AddressObject[] | undefined): string {
  const first = Array.isArray(address) ? address[0] : address;
  return first?.value[0]?.address ?? '';
}

function flattenHeaders(parsed: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of parsed.headerLines) {
    const value = line.line.slice(line.line.indexOf(':') + 1).trim();
    headers[line.key] = headers[line.key] === undefined ? value : `${headers[line.key]}, ${value}`;
  }
  return headers;
}

function waitForMatches(
  current: () => CaughtMessage[],
  arrivals: EventEmitter,
  predicate: (message: CaughtMessage) => boolean,
  count: number,
  timeoutMs: number,
): Promise<CaughtMessage[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const matches = current().filter(predicate);
      if (matches.length < count) return false;
      cleanup();
      resolve(matches);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(timeoutMessage(current(), predicate, count, timeoutMs)));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      arrivals.off('message', check);
    };
    arrivals.on('message', check);
    check();
  });
}

function timeoutMessage(
  all: CaughtMessage[],
  predicate: (message: CaughtMessage) => boolean,
  count: number,
  timeoutMs: number,
): string {
  const matching = all.filter(predicate).length;
  const listing = all
    .map((message) => `  - to ${message.to.join(', ')}: "${message.subject}"`)
    .join('\n');
  return (
    `timed out after ${timeoutMs}ms waiting for ${count} matching email(s); ${matching} matched, ` +
    `${all.length} received${all.length ? `:\n${listing}` : ''}`
  );
}
