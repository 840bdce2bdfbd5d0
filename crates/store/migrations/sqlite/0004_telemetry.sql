-- Telemetry: events per tenant in arrival order, their entities, the
-- detection queue, dead letters, intake batches (idempotency), alerts.

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    time          INTEGER NOT NULL,
    received_at   INTEGER NOT NULL,
    shape         TEXT NOT NULL,
    product       TEXT,
    service       TEXT,
    category      TEXT,
    content_hash  TEXT NOT NULL,
    flags         INTEGER NOT NULL DEFAULT 0,
    raw           TEXT NOT NULL,
    entities      TEXT NOT NULL
) STRICT;

-- Identical records are one event.
CREATE UNIQUE INDEX events_content ON events (tenant_id, content_hash);
-- The investigation timeline and time-bounded hunts.
CREATE INDEX events_time ON events (tenant_id, time);

-- Which events name an entity, in time order.
CREATE TABLE event_entities (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    time       INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, value, time, seq)
) STRICT, WITHOUT ROWID;

-- Events stored but not yet through detection. Written with the event,
-- removed with the alerts the event caused: the queue survives crashes.
CREATE TABLE detection_queue (
    seq  INTEGER PRIMARY KEY NOT NULL
) STRICT;

CREATE TABLE dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    received_at  INTEGER NOT NULL,
    source       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    raw          TEXT NOT NULL
) STRICT;

CREATE INDEX dead_letters_tenant ON dead_letters (tenant_id, id);

-- Batches sent with an Idempotency-Key and the answer they got.
CREATE TABLE intake_batches (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    key            TEXT NOT NULL,
    received_at    INTEGER NOT NULL,
    accepted       INTEGER NOT NULL,
    duplicates     INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    dead_lettered  INTEGER NOT NULL,
    flagged        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;

CREATE TABLE alerts (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    rule_id         TEXT NOT NULL,
    rule_title      TEXT NOT NULL,
    severity        TEXT NOT NULL CHECK (severity IN ('informational', 'low', 'medium', 'high', 'critical')),
    tactics         TEXT NOT NULL,
    techniques      TEXT NOT NULL,
    entities        TEXT NOT NULL,
    dedup_key       TEXT NOT NULL,
    first_activity  INTEGER NOT NULL,
    last_activity   INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    incident_id     TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX alerts_activity ON alerts (tenant_id, last_activity DESC, id DESC);
CREATE INDEX alerts_dedup ON alerts (tenant_id, dedup_key, last_activity);
CREATE INDEX alerts_rule ON alerts (tenant_id, rule_id, last_activity DESC);

CREATE TABLE alert_entities (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    alert_id   TEXT NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (tenant_id, kind, value, alert_id)
) STRICT, WITHOUT ROWID;

-- The first events of each alert (a bounded sample; `count` has the total).
CREATE TABLE alert_events (
    alert_id   TEXT NOT NULL REFERENCES alerts (id),
    seq        INTEGER NOT NULL,
    PRIMARY KEY (alert_id, seq)
) STRICT, WITHOUT ROWID;
