-- The NOTIFY names the largest outbox id the statement inserted: the relay that published those
-- rows straight from the committing process skips it instead of scanning the table again.
CREATE OR REPLACE FUNCTION "notify_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    largest_id BIGINT;
BEGIN
    SELECT max(id) INTO largest_id FROM queued_rows;
    IF largest_id IS NOT NULL THEN
        PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, largest_id::text);
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER "outbox_events_notify" ON "outbox_events";

CREATE TRIGGER "outbox_events_notify" AFTER INSERT ON "outbox_events"
    REFERENCING NEW TABLE AS queued_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "notify_outbox"();
