-- The time index folded into the deduplication index. An event stored
-- under its own time has `dedup_at = time` (migration 0022), so
-- `events_dedup` (tenant_id, dedup_at, content_hash) orders those events
-- by time already; `events_time` (tenant_id, time) was a second B-tree
-- written for every event, about 60 bytes an event, for the few queries
-- that read a tenant's events by time (readiness, retention). They now
-- read `events_dedup` for events under their own time and this partial
-- index for the others (no time of their own, or one too far ahead:
-- `dedup_at = 0`), which intake writes only for those.
DROP INDEX events_time;
CREATE INDEX events_arrival ON events (tenant_id, time) WHERE dedup_at = 0;
