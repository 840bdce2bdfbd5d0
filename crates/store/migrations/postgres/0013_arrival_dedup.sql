-- Events stored under their arrival time (no time of their own, or one too
-- far ahead: flags FUTURE_TIME or NO_TIME) are identical copies whenever
-- they arrive, but `events_content` keys on time, which partitioning needs.
-- This table, not partitioned, keys them by content alone (SQLite's 0022
-- does the same with a time of 0). `time` is the stored event's, so that
-- retention removes a key with its event.
CREATE TABLE event_arrival_keys (
    tenant_id     TEXT COLLATE "C" NOT NULL,
    content_hash  TEXT COLLATE "C" NOT NULL,
    time          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, content_hash)
);
CREATE INDEX event_arrival_keys_time ON event_arrival_keys (tenant_id, time);
