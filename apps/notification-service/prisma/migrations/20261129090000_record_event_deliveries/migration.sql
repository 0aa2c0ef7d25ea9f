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
