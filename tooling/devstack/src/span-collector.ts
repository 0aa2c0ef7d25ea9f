import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait';

/** A span as Zipkin's JSON v2 API receives it (what OpenTelemetry's Zipkin exporter sends). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

export interface SpanCollector {
  /** The endpoint to give OTEL_EXPORTER_ZIPKIN_ENDPOINT. */
  url: string;
  spans(): ZipkinSpan[];
  /** Spans received so far (also those not kept). */
  count(): number;
  /** Waits until the collected spans satisfy the condition; returns its result. */
  waitFor<T>(
    found: (spans: ZipkinSpan[]) => T | undefined | false,
    description: string,
    timeoutMs?: number,
  ): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A real HTTP endpoint speaking Zipkin's span API (POST /api/v2/spans), keeping the spans in
 * memory: tests read the traces the services export, like the SMTP catcher reads their emails.
 */
export async function startSpanCollector(options: { keep?: boolean } = {}): Promise<SpanCollector> {
  const keep = options.keep ?? true;
  const received: ZipkinSpan[] = [];
  let count = 0;
  const server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/api/v2/spans') {
      response.writeHead(404).end();
      return;
    }
    readJson(request).then(
      (body) => {
        if (!Array.isArray(body)) {
          response.writeHead(400).end('expected a JSON array of spans');
          return;
        }
        count += body.length;
        // A benchmark's sink only counts: kept, hours of spans would fill its memory.
        if (keep) received.push(...(body as ZipkinSpan[]));
        response.writeHead(202).end();
      },
      (error: Error) => response.writeHead(400).end(error.message),
    );
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    spans: () => [...received],
    count: () => count,
    waitFor: (found, description, timeoutMs = 30_000) =>
      waitFor(
        () => {
          const result = found([...received]);
          return result === false ? undefined : result;
        },
        { timeoutMs, intervalMs: 100, description },
      ),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
