-- The dispatcher claims the oldest PENDING rows many times a second, and sent rows stay in the
-- table. This index holds only the rows still to be sent, in the order they are claimed.
-- Prisma does not model partial indexes; it leaves this one alone.
CREATE INDEX "notifications_pending_idx" ON "notifications"("created_at") WHERE "status" = 'PENDING';
