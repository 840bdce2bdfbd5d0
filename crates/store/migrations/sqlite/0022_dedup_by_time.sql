-- Deduplication keyed by the event's own time first. Identical records
-- carry identical times, so nothing is lost; and a live stream's times
-- grow, so new keys land at the end of the index. Keyed by the content
-- hash alone they fell on a random page each: with every commit writing
-- whole pages, that was about one page (4 KiB) written per event.
-- Events without a usable time of their own (no time, or one too far in
-- the future) are stored under their arrival, which differs between
-- copies: they are deduplicated under 0.
ALTER TABLE events ADD COLUMN dedup_at INTEGER NOT NULL DEFAULT 0;
UPDATE events SET dedup_at = time WHERE flags & 3 = 0;
DROP INDEX events_content;
CREATE UNIQUE INDEX events_dedup ON events (tenant_id, dedup_at, content_hash);
