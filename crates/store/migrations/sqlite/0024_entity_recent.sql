-- Entity postings in two parts, read as one through the view
-- `event_entities` (same columns as the table it replaces):
--
-- `entity_recent`: intake appends each batch's postings here, a rowid
-- table written at its end, so a batch writes a few consecutive pages.
-- `entity_postings`: the postings by tenant, entity and time (the old
-- table, renamed). Intake moves the recent postings here in key order,
-- all at once, every hundred thousand or so (sqlite/intake.rs).
--
-- Written straight into `entity_postings`, each batch's postings landed
-- at the end of each of its entities' runs: a page for nearly every
-- entity of the batch (about 900 pages a 2,000-event batch), written to
-- the log by every batch, which at 25,000 events a second was half of
-- what intake wrote and a third of its time. Moved in key order many
-- batches at once, a page takes all of its entity's new postings at once.
--
-- Lookups read both parts; `entity_recent` is kept small by the moves.
ALTER TABLE event_entities RENAME TO entity_postings;

CREATE TABLE entity_recent (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    time       INTEGER NOT NULL,
    seq        INTEGER NOT NULL
) STRICT;

CREATE VIEW event_entities (tenant_id, kind, value, time, seq) AS
    SELECT tenant_id, kind, value, time, seq FROM entity_postings
    UNION ALL
    SELECT tenant_id, kind, value, time, seq FROM entity_recent;
