-- The W3C trace context of the event that asked for the email: the send continues that trace,
-- so an order's trace ends at the SMTP server. NULL untraced.
ALTER TABLE "notifications" ADD COLUMN "trace_context" JSONB;
