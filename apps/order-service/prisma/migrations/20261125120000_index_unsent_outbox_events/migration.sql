-- The relay asks for the oldest unsent rows many times a second. Sent rows stay for an hour, and
-- the index on (sent_at, id) keeps an entry for every row version marked sent until vacuum runs,
-- so that query had to wade through them. This index holds only what is still to be sent.
-- Prisma does not model partial indexes; it leaves this one alone.
CREATE INDEX "outbox_events_unsent_idx" ON "outbox_events"("id") WHERE "sent_at" IS NULL;
