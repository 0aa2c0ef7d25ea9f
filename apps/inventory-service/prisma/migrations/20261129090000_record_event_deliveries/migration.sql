-- Where each consumed event came from and which replica handled it, recorded with its effect, so
-- the flow console states the topic, partition, offset and replica instead of guessing.
ALTER TABLE "processed_events"
    ADD COLUMN "correlation_id" UUID,
    ADD COLUMN "topic" TEXT,
    ADD COLUMN "kafka_partition" INTEGER,
    ADD COLUMN "kafka_offset" BIGINT,
    ADD COLUMN "handled_by" TEXT;

-- CreateIndex
CREATE INDEX "processed_events_correlation_id_idx" ON "processed_events"("correlation_id");

-- Which replica's relay published each outbox row.
ALTER TABLE "outbox_events" ADD COLUMN "sent_by" TEXT;

-- CreateIndex
CREATE INDEX "outbox_events_message_key_idx" ON "outbox_events"("message_key");
