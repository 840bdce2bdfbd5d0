-- Entity postings written many batches at once instead of with each
-- batch, read through the view `event_entities` (the columns of the
-- table it replaces):
--
-- `entity_postings`: the postings by tenant, entity and time (the old
-- table, renamed), for the events up to `entity_postings_through.seq`.
-- The events after it are read from their own `entities` column: intake
-- writes no postings, and moves those events' postings into
-- `entity_postings`, in key order, every forty thousand events or so
-- (sqlite/intake.rs), in one transaction with the new `seq`.
--
-- Written with each batch, a batch's postings landed at the end of each
-- of its entities' runs: a page for nearly every entity of the batch
-- (about 900 pages a 2,000-event batch), written to the log by every
-- batch. At 25,000 events a second that was half of what intake wrote
-- and a third of its time. Moved in key order many batches at once, a
-- page takes all of its entity's new postings at once.
ALTER TABLE event_entities RENAME TO entity_postings;

CREATE TABLE entity_postings_through (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL
) STRICT;

INSERT INTO entity_postings_through (id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;

CREATE VIEW event_entities (tenant_id, kind, value, time, seq) AS
    SELECT tenant_id, kind, value, time, seq FROM entity_postings
    UNION ALL
    SELECT e.tenant_id, j.value ->> '$.kind', j.value ->> '$.value', e.time, e.seq
    FROM events e, json_each(e.entities) AS j
    WHERE e.seq > (SELECT seq FROM entity_postings_through);
