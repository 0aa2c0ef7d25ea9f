#!/usr/bin/env node
/**
 * `node tooling/bench/dist/tracing-off-cost.js`: what the messaging layer's tracing calls cost per
 * event when tracing is off (no provider registered, as in a service without OTEL_TRACES_EXPORTER).
 * One iteration is what one event costs end to end: its send span and headers, its process span
 * read from those headers, and the carrier a row written on its behalf would store.
 */
import {
  contextOf,
  contextOfHeaders,
  endSpan,
  startProcessSpan,
  startSendSpan,
  traceCarrierFor,
  withHandledEvents,
} from '@shop/messaging';

const ITERATIONS = 1_000_000;

function nanosecondsPerEvent(): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) {
    const sent = startSendSpan('order-events', { 'messaging.message.id': 'e' }, contextOf(null));
    endSpan(sent.span);
    const span = startProcessSpan('order-events', {}, contextOfHeaders(sent.headers));
    withHandledEvents([{ eventId: 'e', span }], () => traceCarrierFor('e'));
    endSpan(span);
  }
  return Number(process.hrtime.bigint() - started) / ITERATIONS;
}

nanosecondsPerEvent(); // warm-up: let the JIT compile the loop first
const runs = [nanosecondsPerEvent(), nanosecondsPerEvent(), nanosecondsPerEvent()].map(Math.round);
process.stdout.write(
  `tracing off: ${runs.join(', ')} ns per event (3 runs of ${ITERATIONS.toLocaleString('en')})\n`,
);
