import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OrderLine } from '@shop/contracts';

/** One POST /orders as the client sees it, across all its retries. */
export interface OrderRequest {
  /** Sent as Idempotency-Key on every attempt: retries of one request make one order. */
  key: string;
  items: OrderLine[];
  issuedAt: number;
  state: 'in-flight' | 'accepted' | 'refused' | 'unanswered';
  orderId?: string;
  acceptedAt?: number;
  /** Set when the client asked to cancel the order after it was accepted. */
  cancel?: 'requested' | 'cancelled' | 'refused' | 'unanswered';
}

export interface TrafficCounts {
  requests: number;
  accepted: number;
  /** Responses with a 5xx status, retries included: a client saw the server fail. */
  serverErrors: number;
  /** Attempts that got no HTTP answer (refused, reset, timed out) and were retried. */
  connectionErrors: number;
  /** Requests answered with neither 202 nor 5xx: valid orders refused. */
  refused: number;
  /** Requests still without an answer when the client gave up. */
  unanswered: number;
  cancelsRequested: number;
  cancelled: number;
  /** Cancels still without an answer when the client gave up. */
  unansweredCancels: number;
  /** A few distinct answers that were 5xx or refusals, to say what went wrong. */
  samples: string[];
}

export interface TrafficOptions {
  orderUrls: readonly string[];
  /** `Authorization` of the customer the clients order as; minted once, valid for the run. */
  authorization: string;
  skus: readonly string[];
  /** Share of accepted orders the client cancels shortly afterwards (releases stock). */
  cancelShare: number;
}

const ATTEMPT_TIMEOUT_MS = 15_000;
/** A request not answered within this is given up on and counted as unanswered. */
const REQUEST_DEADLINE_MS = 120_000;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2_000;
const CANCEL_DELAY_MAX_MS = 1_500;
const TICK_MS = 50;
const MAX_SAMPLES = 5;

type Attempt =
  { kind: 'answer'; status: number; body: unknown; retryAfterMs: number } | { kind: 'no-answer' };

/**
 * The clients of the order API: places orders at a steady rate whatever happens to the server,
 * each with an Idempotency-Key, retried with the same key until answered, as a careful client does.
 */
export class Traffic {
  private readonly all: OrderRequest[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private readonly tally: TrafficCounts = {
    requests: 0,
    accepted: 0,
    serverErrors: 0,
    connectionErrors: 0,
    refused: 0,
    unanswered: 0,
    cancelsRequested: 0,
    cancelled: 0,
    unansweredCancels: 0,
    samples: [],
  };
  private nextUrl = 0;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly options: TrafficOptions) {}

  /** Issues `ratePerSecond` orders a second, not waiting for answers, until stop(). */
  start(ratePerSecond: number): void {
    if (this.running) throw new Error('traffic is already running');
    this.stopping = false;
    this.running = this.pace(ratePerSecond);
  }

  /** Stops issuing; resolves once every request and cancel in flight has its final answer. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = undefined;
    await this.settled();
  }

  /** Waits until every request and cancel in flight has its final answer. */
  async settled(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /** One order request, retried until answered; resolves with its final state. */
  place(items: OrderLine[] = this.randomItems()): Promise<OrderRequest> {
    const request: OrderRequest = {
      key: randomUUID(),
      items,
      issuedAt: Date.now(),
      state: 'in-flight',
    };
    this.all.push(request);
    this.tally.requests += 1;
    return this.track(this.submit(request).then(() => request));
  }

  requests(): readonly OrderRequest[] {
    return this.all;
  }

  accepted(): OrderRequest[] {
    return this.all.filter((request) => request.state === 'accepted');
  }

  counts(): TrafficCounts {
    return { ...this.tally, samples: [...this.tally.samples] };
  }

  private async pace(ratePerSecond: number): Promise<void> {
    const started = Date.now();
    let issued = 0;
    while (!this.stopping) {
      const due = Math.floor(((Date.now() - started) / 1_000) * ratePerSecond);
      for (; issued < due; issued++) void this.place();
      await sleep(TICK_MS);
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const task = work.then(
      () => undefined,
      () => undefined,
    );
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
    return work;
  }

  private async submit(request: OrderRequest): Promise<void> {
    const body = JSON.stringify({ items: request.items });
    const answer = await this.untilAnswered(request.issuedAt, (url) =>
      fetch(`${url}/orders`, {
        method: 'POST',
        headers: {
          authorization: this.options.authorization,
          'content-type': 'application/json',
          'idempotency-key': request.key,
        },
        body,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      }),
    );
    if (!answer) {
      request.state = 'unanswered';
      this.tally.unanswered += 1;
      return;
    }
    const id = (answer.body as { id?: unknown } | undefined)?.id;
    if (answer.status !== 202 || typeof id !== 'string') {
      request.state = 'refused';
      this.tally.refused += 1;
      this.sample(answer);
      return;
    }
    request.state = 'accepted';
    request.orderId = id;
    request.acceptedAt = Date.now();
    this.tally.accepted += 1;
    if (Math.random() < this.options.cancelShare) void this.track(this.cancelLater(request, id));
  }

  private async cancelLater(request: OrderRequest, orderId: string): Promise<void> {
    await sleep(Math.random() * CANCEL_DELAY_MAX_MS);
    request.cancel = 'requested';
    this.tally.cancelsRequested += 1;
    const answer = await this.untilAnswered(Date.now(), (url) =>
      fetch(`${url}/orders/${orderId}/cancel`, {
        method: 'POST',
        headers: { authorization: this.options.authorization },
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      }),
    );
    // 409: already REJECTED, or already CANCELLED by an attempt whose answer was lost.
    if (!answer) {
      request.cancel = 'unanswered';
      this.tally.unansweredCancels += 1;
    } else if (answer.status === 202) {
      request.cancel = 'cancelled';
      this.tally.cancelled += 1;
    } else request.cancel = 'refused';
  }

  /**
   * Retries on no answer and on 5xx, with capped backoff or the server's Retry-After if longer;
   * undefined once the deadline has passed.
   */
  private async untilAnswered(
    issuedAt: number,
    send: (url: string) => Promise<Response>,
  ): Promise<{ status: number; body: unknown } | undefined> {
    let backoff = FIRST_BACKOFF_MS;
    while (Date.now() - issuedAt < REQUEST_DEADLINE_MS) {
      const attempt = await this.attempt(send);
      if (attempt.kind === 'no-answer') this.tally.connectionErrors += 1;
      else if (attempt.status >= 500) {
        this.tally.serverErrors += 1;
        this.sample(attempt);
      } else return attempt;
      await sleep(Math.max(backoff, attempt.kind === 'answer' ? attempt.retryAfterMs : 0));
      backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
    }
    return undefined;
  }

  private sample(answer: { status: number; body: unknown }): void {
    const text = `${answer.status} ${JSON.stringify(answer.body) ?? ''}`.slice(0, 300);
    if (this.tally.samples.length < MAX_SAMPLES && !this.tally.samples.includes(text)) {
      this.tally.samples.push(text);
    }
  }

  private async attempt(send: (url: string) => Promise<Response>): Promise<Attempt> {
    const urls = this.options.orderUrls;
    const url = urls[this.nextUrl++ % urls.length];
    if (url === undefined) throw new Error('no order-service URL to send to');
    try {
      const response = await send(url);
      const text = await response.text();
      const retryAfterSeconds = Number(response.headers.get('retry-after'));
      return {
        kind: 'answer',
        status: response.status,
        body: parseJson(text),
        retryAfterMs: Number.isFinite(retryAfterSeconds) ? retryAfterSeconds * 1_000 : 0,
      };
    } catch {
      return { kind: 'no-answer' };
    }
  }

  private randomItems(): OrderLine[] {
    const skus = [...this.options.skus].sort(() => Math.random() - 0.5);
    const lines = Math.min(skus.length, 1 + Math.floor(Math.random() * 2));
    return skus
      .slice(0, lines)
      .map((sku) => ({ sku, quantity: 1 + Math.floor(Math.random() * 3) }));
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
