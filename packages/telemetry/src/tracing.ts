import { trace } from '@opentelemetry/api';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { tracingConfigSchema } from './tracing-config';

/** Paths polled by machines: a span per scrape or health check would bury the orders' traces. */
const UNTRACED_PATHS = ['/health', '/metrics', '/internal/'];

let provider: NodeTracerProvider | undefined;

/**
 * Starts tracing when OTEL_TRACES_EXPORTER asks for it. Must run before Nest, pg or http are
 * loaded (instrumentations patch modules as they are required), so a service's main.ts calls it
 * first and loads the service afterwards. Off, nothing is registered and the OpenTelemetry API's
 * calls in the code are no-ops.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const parsed = tracingConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new Error(`invalid tracing configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  if (config.OTEL_TRACES_EXPORTER === 'none' || provider) return false;
  const name = config.OTEL_SERVICE_NAME ?? serviceName;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: name }),
    spanProcessors: [
      new BatchSpanProcessor(
        new ZipkinExporter({ url: config.OTEL_EXPORTER_ZIPKIN_ENDPOINT, serviceName: name }),
      ),
    ],
  });
  // Registers the W3C trace-context propagator and the AsyncLocalStorage context manager too.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.some((path) => request.url?.startsWith(path) ?? false),
      }),
      new NestInstrumentation(),
      // Statements of the relay's and dispatcher's polls have no parent: only traced work is kept.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  return true;
}

/** Sends the spans still buffered (if the collector answers); a stopping service calls it last. */
export async function stopTracing(): Promise<void> {
  const running = provider;
  provider = undefined;
  if (!running) return;
  // A collector that is down costs the last spans, not the service's clean stop.
  await running.shutdown().catch(() => undefined);
  trace.disable();
}
