import { context, propagation, trace } from '@opentelemetry/api';
import { startTracing, stopTracing } from './tracing';

afterEach(async () => {
  await stopTracing();
});

describe('startTracing', () => {
  it('registers nothing when no exporter is asked for: the API stays a no-op', () => {
    expect(startTracing('order-service', {})).toBe(false);
    const span = trace.getTracer('test').startSpan('untraced');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier).toEqual({});
  });

  it('refuses a bad setting, naming the variable', () => {
    expect(() => startTracing('order-service', { OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(
      /invalid tracing configuration: OTEL_TRACES_EXPORTER/,
    );
    expect(() =>
      startTracing('order-service', {
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'not a url',
      }),
    ).toThrow(/OTEL_EXPORTER_ZIPKIN_ENDPOINT/);
  });

  it('with zipkin, records spans and propagates W3C trace context, once per process', () => {
    const env = {
      OTEL_TRACES_EXPORTER: 'zipkin',
      // Nothing listens there: spans are only buffered, and dropped at stop.
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9/api/v2/spans',
    };
    expect(startTracing('order-service', env)).toBe(true);
    expect(startTracing('order-service', env)).toBe(false);
    const span = trace.getTracer('test').startSpan('traced');
    expect(span.isRecording()).toBe(true);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier.traceparent).toMatch(
      new RegExp(`^00-${span.spanContext().traceId}-${span.spanContext().spanId}-01$`),
    );
    span.end();
  });
});
