-- Orders belong to the caller who placed them: the `sub` of their access token. Orders placed
-- before sign-in existed belong to no one (NULL); only admins see them.
ALTER TABLE "orders" ADD COLUMN "customer_subject" TEXT;

-- A customer's orders, newest first.
CREATE INDEX "orders_customer_subject_created_at_idx" ON "orders"("customer_subject", "created_at");

-- Idempotency keys are scoped to their caller, so a reused key can tell nothing of anyone else's
-- order. The keys held so far were claimed by anonymous requests, which are now refused before
-- they reach a key: none of them can be replayed any more.
DELETE FROM "idempotency_keys";
ALTER TABLE "idempotency_keys" ADD COLUMN "caller_subject" TEXT NOT NULL;
ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_pkey";
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("caller_subject", "key");
