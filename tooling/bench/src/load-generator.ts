import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface OpenLoopOptions {
  /** e.g. http://127.0.0.1:3000/orders */
  url: string;
  /** Sent with every request: one token for the whole run, not one per request. */
  authorization: string;
  /** Requests per second, sent on schedule whatever the answers do. */
  rate: number;
  durationMs: number;
  /** Pre-built JSON bodies, used in turn: building one per request would cost the generator CPU. */
  bodies: readonly Buffer[];
  agent: Agent;
  /** Called about once a second while requests are being sent. */
  onProgress?: (progress: LoadProgress) => void;
  requestTimeoutMs?: number;
  /** Stops sending (the step has already failed); requests in flight are still awaited. */
  signal?: AbortSignal;
}

export interface LoadProgress {
  elapsedMs: number;
  sent: number;
  answered: number;
  errors: number;
}

export interface LoadResult {
  /** Requests actually sent: the first `sent` entries of the arrays below are filled. */
  sent: number;
  /** Wall-clock (epoch ms) time at which request i was due to be sent. */
  intendedAt: Float64Array;
  /** Due time → answer fully received, in ms; NaN when there was no HTTP answer. */
  latencyMs: Float64Array;
  /** HTTP status; 0 when the request failed without one. */
  status: Uint16Array;
  /** The order id from the Location header of a 202; undefined otherwise. */
  orderIds: Array<string | undefined>;
  errors: Map<string, number>;
  /** Wall-clock time the first request was due. */
  startedAt: number;
  /** From the first due time to the last request sent (ms). */
  sendingMs: number;
  /** The latest any request left after its due time (ms): timer jitter, or a generator that fell behind. */
  behindMs: number;
}

const ORDER_LOCATION = /\/orders\/([0-9a-f-]{36})$/;

/**
 * A keep-alive agent for the generator: open loop may need many sockets at once. Node's agent
 * drops an idle socket shortly before the server's announced keep-alive timeout only when it has
 * a timeout of its own; without one, a request sent on a socket the server is closing is reset.
 */
export function loadAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1_024, maxFreeSockets: 1_024, timeout: 30_000 });
}

/**
 * Open loop: request i is due at start + i/rate and is sent then, whether or not earlier ones have
 * been answered, and its latency is measured from that due time. A slow answer (or a generator that
 * fell behind) therefore shows up in the figures instead of quietly lowering the load.
 */
export function runOpenLoop(options: OpenLoopOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const scheduled = Math.max(1, Math.round((options.rate * options.durationMs) / 1_000));
  let total = scheduled;
  const intervalMs = 1_000 / options.rate;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const result: LoadResult = {
    sent: 0,
    intendedAt: new Float64Array(scheduled),
    latencyMs: new Float64Array(scheduled).fill(Number.NaN),
    status: new Uint16Array(scheduled),
    orderIds: new Array<string | undefined>(scheduled),
    errors: new Map(),
    startedAt: 0,
    sendingMs: 0,
    behindMs: 0,
  };
  // Wall-clock anchor for the due times: monotonic offsets from one Date.now() reading, so the
  // figures can be compared with timestamps the services and Postgres record.
  const startPerf = performance.now() + 5;
  const epochAtStart = Date.now() + (startPerf - performance.now());
  result.startedAt = epochAtStart;

  let next = 0;
  let finished = 0;
  let errorCount = 0;
  let progressTimer: NodeJS.Timeout | undefined;

  return new Promise((resolve) => {
    const settleIfFinished = (): void => {
      if (finished < total || next < total) return;
      if (progressTimer) clearInterval(progressTimer);
      result.sent = total;
      resolve(result);
    };
    const done = (): void => {
      finished += 1;
      settleIfFinished();
    };
    const fail = (index: number, reason: string): void => {
      errorCount += 1;
      result.errors.set(reason, (result.errors.get(reason) ?? 0) + 1);
      result.latencyMs[index] = Number.NaN;
      done();
    };

    const send = (index: number, dueAt: number): void => {
      const body = options.bodies[index % options.bodies.length] as Buffer;
      let settled = false;
      const req = request(
        {
          agent: options.agent,
          hostname: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            authorization: options.authorization,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        },
        (res) => {
          const location = res.headers.location;
          res.resume();
          res.once('end', () => {
            if (settled) return;
            settled = true;
            result.latencyMs[index] = performance.now() - dueAt;
            result.status[index] = res.statusCode ?? 0;
            if (res.statusCode === 202 && location) {
              result.orderIds[index] = ORDER_LOCATION.exec(location)?.[1];
            } else {
              const reason = `HTTP ${res.statusCode ?? '?'}`;
              result.errors.set(reason, (result.errors.get(reason) ?? 0) + 1);
              errorCount += 1;
            }
            done();
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.once('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        fail(index, error.code ?? error.message);
      });
      req.end(body);
    };

    const tick = (): void => {
      if (options.signal?.aborted) {
        total = next;
        result.sendingMs = performance.now() - startPerf;
        settleIfFinished();
        return;
      }
      const now = performance.now();
      while (next < total) {
        const dueAt = startPerf + next * intervalMs;
        if (dueAt > now) break;
        result.intendedAt[next] = epochAtStart + (dueAt - startPerf);
        result.behindMs = Math.max(result.behindMs, now - dueAt);
        next += 1;
        send(next - 1, dueAt);
      }
      if (next < total) {
        const wait = startPerf + next * intervalMs - performance.now();
        setTimeout(tick, Math.max(0, wait));
      } else {
        result.sendingMs = performance.now() - startPerf;
      }
    };

    if (options.onProgress) {
      const report = options.onProgress;
      progressTimer = setInterval(
        () =>
          report({
            elapsedMs: performance.now() - startPerf,
            sent: next,
            answered: finished,
            errors: errorCount,
          }),
        1_000,
      );
    }
    setTimeout(tick, Math.max(0, startPerf - performance.now()));
  });
}
