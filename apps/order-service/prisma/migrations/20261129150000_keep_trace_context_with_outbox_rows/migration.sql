-- The W3C trace context (traceparent, tracestate) of the work that wrote the row: the relay's send
-- span continues that trace, so one order is one trace across the outbox and Kafka. NULL untraced.
ALTER TABLE "outbox_events" ADD COLUMN "trace_context" JSONB;
