-- The hunting projection's `additional` column kept beside the row, in a
-- table of its own keyed by `seq`, instead of in `hunt_events`.
-- `hunt_events` is an index b-tree (WITHOUT ROWID), which keeps at most
-- about 1 KB of a row on its page (4 KiB pages) and spills the rest to an
-- overflow page of its own. Hunting rows of Windows events averaged 1 KB,
-- `additional` alone 820 bytes: most rows took an overflow page, three
-- quarters of it empty, and the table used 1.8 KB per event, the most of
-- anything intake wrote (the write-ahead log writes it twice). Without
-- `additional` the rows stay on their pages; `hunt_additional` is a rowid
-- table, appended in arrival order, which keeps rows up to 4 KB on the
-- leaf. Hunts that read `AdditionalFields` look it up by `seq`.
CREATE TABLE hunt_additional (
    seq         INTEGER PRIMARY KEY NOT NULL,
    additional  TEXT NOT NULL
) STRICT;

INSERT INTO hunt_additional (seq, additional)
SELECT seq, additional FROM hunt_events WHERE additional IS NOT NULL ORDER BY seq;

ALTER TABLE hunt_events DROP COLUMN additional;
