-- Entities by number. Each tenant's entity (kind and value) is named once
-- in `entity_names`; its postings in `entity_postings` and `entity_recent`
-- carry that number instead of the tenant, kind and value.
--
-- With the names in every posting, a posting took about 85 bytes (a
-- 36-character tenant id, the kind, a value of 20 to 60 characters):
-- three an event, then written again when intake moved them in key order
-- (migration 0024), which was about a third of intake's turn to write.
-- By number a posting is three integers.
--
-- Names are never deleted, so a number once read stays good (intake keeps
-- the numbers it has used in memory: sqlite/intake.rs). The view
-- `event_entities` keeps its columns for the queries that read names.
CREATE TABLE entity_names (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX entity_names_key ON entity_names (tenant_id, kind, value);

INSERT INTO entity_names (tenant_id, kind, value)
    SELECT tenant_id, kind, value FROM entity_postings
    UNION
    SELECT tenant_id, kind, value FROM entity_recent
    ORDER BY 1, 2, 3;

CREATE TABLE entity_postings_by_number (
    entity  INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (entity, time, seq)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO entity_postings_by_number (entity, time, seq)
    SELECT n.id, p.time, p.seq
    FROM (SELECT tenant_id, kind, value, time, seq FROM entity_postings
          UNION ALL
          SELECT tenant_id, kind, value, time, seq FROM entity_recent) p
    JOIN entity_names n
      ON n.tenant_id = p.tenant_id AND n.kind = p.kind AND n.value = p.value
    ORDER BY 1, 2, 3;

DROP VIEW event_entities;
DROP TABLE entity_postings;
DROP TABLE entity_recent;
ALTER TABLE entity_postings_by_number RENAME TO entity_postings;

-- Appended by intake, moved into `entity_postings` in key order every
-- hundred thousand or so (as in migration 0024).
CREATE TABLE entity_recent (
    entity  INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    seq     INTEGER NOT NULL
) STRICT;

CREATE VIEW event_entities (tenant_id, kind, value, time, seq) AS
    SELECT n.tenant_id, n.kind, n.value, p.time, p.seq
    FROM entity_names n JOIN entity_postings p ON p.entity = n.id
    UNION ALL
    SELECT n.tenant_id, n.kind, n.value, r.time, r.seq
    FROM entity_names n JOIN entity_recent r ON r.entity = n.id;
