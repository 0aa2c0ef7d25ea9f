-- When the consumer had the event in hand (its batch fetched from Kafka), beside when its effect
-- committed: the flow console shows the time spent waiting apart from the time spent handling.
ALTER TABLE "processed_events" ADD COLUMN "fetched_at" TIMESTAMPTZ(3);
