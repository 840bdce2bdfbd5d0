-- Event blocks (sqlite/blocks.rs): the records of about 32 consecutive
-- events of one batch, with their hunting rows' `additional` text,
-- compressed together. Compressed one by one, a record and its
-- `additional` took about 1.6 KB an event, written twice (log, then
-- checkpoint): the larger part of what bounded intake. Together they
-- compress several times better.
--
-- `max_time`: the newest `time` of the block's events. Retention deletes
-- a block once that is older than its cut, that is once every event of
-- the block is purged (a block's bytes outlive the older events of its
-- batch until then).
CREATE TABLE event_blocks (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    max_time   INTEGER NOT NULL,
    data       BLOB NOT NULL
) STRICT;

CREATE INDEX event_blocks_expiry ON event_blocks (tenant_id, max_time);

-- An event stored in a block: its block and its place there; `raw` and
-- `raw_lz4` stay empty. Events stored before keep theirs.
ALTER TABLE events ADD COLUMN block INTEGER;
ALTER TABLE events ADD COLUMN block_item INTEGER;
