-- Entity postings as lists (sqlite/postings.rs): a row per entity, time
-- bucket and batch, whose `postings` text is a JSON array of pairs
-- flattened, `[offset, seq, ...]`, each posting's time as microseconds
-- after its bucket's start (`bucket = time >> 32`, about 71.6 minutes).
--
-- A row a posting cost intake about 7,000 instructions (appended to
-- `entity_recent`, then moved in key order into `entity_postings`), a
-- third of its turn to write. A 2,000-event batch names some 560
-- entities for its 5,000 postings: 560 rows now, appended and moved the
-- same way (migration 0024).
--
-- `first_seq` is the smallest `seq` of a list as written; lists of one
-- entity and bucket never share it. The view `event_entities` keeps its
-- columns: each posting, its time the event's.
CREATE TABLE entity_lists (
    entity     INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    first_seq  INTEGER NOT NULL,
    postings   TEXT NOT NULL,
    PRIMARY KEY (entity, bucket, first_seq)
) STRICT, WITHOUT ROWID;

INSERT INTO entity_lists (entity, bucket, first_seq, postings)
    SELECT entity, bucket, min(seq), '[' || group_concat(pair, ',') || ']'
    FROM (SELECT entity, time >> 32 AS bucket, seq,
                 (time - ((time >> 32) << 32)) || ',' || seq AS pair
          FROM (SELECT entity, time, seq FROM entity_postings
                UNION
                SELECT entity, time, seq FROM entity_recent)
          ORDER BY entity, bucket, seq)
    GROUP BY entity, bucket
    ORDER BY entity, bucket;

DROP VIEW event_entities;
DROP TABLE entity_postings;
DROP TABLE entity_recent;

-- Appended by intake, a row per entity and bucket a batch; moved into
-- `entity_lists` in key order every hundred thousand postings or so.
CREATE TABLE entity_recent (
    entity     INTEGER NOT NULL,
    bucket     INTEGER NOT NULL,
    first_seq  INTEGER NOT NULL,
    postings   TEXT NOT NULL
) STRICT;

CREATE VIEW event_entities (tenant_id, kind, value, time, seq) AS
    SELECT n.tenant_id, n.kind, n.value, e.time, e.seq
    FROM entity_names n
    JOIN entity_lists l ON l.entity = n.id
    JOIN json_each(l.postings) j ON j.key % 2 = 1
    JOIN events e ON e.seq = j.value
    UNION ALL
    SELECT n.tenant_id, n.kind, n.value, e.time, e.seq
    FROM entity_names n
    JOIN entity_recent r ON r.entity = n.id
    JOIN json_each(r.postings) j ON j.key % 2 = 1
    JOIN events e ON e.seq = j.value;
