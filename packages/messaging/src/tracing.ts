import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';

/**
 * The spans of the asynchronous hops are made here rather than by
 * `@opentelemetry/instrumentation-kafkajs`: it gives one send span per producer call and, with
 * `eachBatch`, one trace per fetched batch that only links each message's producer. An event
 * leaves through an outbox row written long before the send, and batches mix many orders; so the
 * row keeps its writer's W3C trace context, the relay's send span continues it, and each event's
 * process span is a child of its own send span. With no tracer registered these calls do nothing.
 */
const tracer = trace.getTracer('@shop/messaging');

/** W3C trace context (`traceparent`, maybe `tracestate`) as stored with a row or sent as headers. */
export type TraceCarrier = Record<string, string>;

/** The events a handler call works on, by id, each with the context of its own process span. */
const HANDLED_EVENTS = createContextKey('@shop/messaging handled events');

/**
 * The trace context to store with a row written now: that of the handled event with this id (in
 * a batch handler each event has its own), else the active one (an HTTP request's). Null when
 * nothing is traced.
 */
export function traceCarrierFor(handledEventId?: string | null): TraceCarrier | null {
  const active = context.active();
  const handled = active.getValue(HANDLED_EVENTS) as ReadonlyMap<string, Context> | undefined;
  const source = (handledEventId ? handled?.get(handledEventId) : undefined) ?? active;
  const carrier: TraceCarrier = {};
  propagation.inject(source, carrier);
  return carrier.traceparent ? carrier : null;
}

/** The context a stored carrier continues; anything unreadable starts a new trace instead. */
export function contextOf(carrier: unknown): Context {
  if (typeof carrier !== 'object' || carrier === null) return ROOT_CONTEXT;
  const entries = Object.entries(carrier).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return propagation.extract(ROOT_CONTEXT, Object.fromEntries(entries));
}

/** The trace context a Kafka message carries in its headers. */
export function contextOfHeaders(headers: IHeaders | undefined): Context {
  const carrier: TraceCarrier = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = headers?.[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) carrier[name] = first.toString();
  }
  return contextOf(carrier);
}

/** A PRODUCER span for one event leaving its outbox, and the headers that carry it on. */
export function startSendSpan(
  topic: string,
  attributes: Attributes,
  parent: Context,
): { span: Span; headers: TraceCarrier } {
  const span = tracer.startSpan(
    `send ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        ...attributes,
      },
    },
    parent,
  );
  const headers: TraceCarrier = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
  return { span, headers };
}

/** A CONSUMER span for handling one event, a child of the span that sent it. */
export function startProcessSpan(topic: string, attributes: Attributes, parent: Context): Span {
  return tracer.startSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topic,
        ...attributes,
      },
    },
    parent,
  );
}

/**
 * Runs a handler call with the spans of the events it handles: the first is the active span (a
 * batch call's database statements land in its trace), and each event's context is kept for the
 * rows written on its behalf (traceCarrierFor).
 */
export function withHandledEvents<T>(
  spans: ReadonlyArray<{ eventId: string; span: Span }>,
  work: () => T,
): T {
  const contexts = new Map(
    spans.map(({ eventId, span }) => [eventId, trace.setSpan(ROOT_CONTEXT, span)] as const),
  );
  const first = spans[0];
  const active = first ? trace.setSpan(context.active(), first.span) : context.active();
  return context.with(active.setValue(HANDLED_EVENTS, contexts), work);
}

/** Ends a span, marking it failed when the work threw. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: String((error as Error)?.message ?? error),
    });
  }
  span.end();
}
