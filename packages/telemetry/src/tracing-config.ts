import { z } from 'zod';

/**
 * Tracing follows OpenTelemetry's own variables, so operators configure it as they do elsewhere.
 * Only Zipkin's JSON exporter is offered: Zipkin runs here without Docker (a jar on Maven Central),
 * and the same JSON is what the end-to-end test's collector reads.
 */
export const tracingConfigSchema = z.object({
  OTEL_TRACES_EXPORTER: z.enum(['none', 'zipkin']).default('none'),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: z.url().default('http://localhost:9411/api/v2/spans'),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

export type TracingConfig = z.output<typeof tracingConfigSchema>;
