-- Threat hunting (docs/hunting.md) on PostgreSQL: the same tables as
-- SQLite's 0020. `hunt_events` is partitioned by month of event time like
-- `events` (partitions.rs creates both and retention drops both); hunts
-- read only this table, never the raw records.
CREATE TABLE hunt_events (
    seq                  BIGINT NOT NULL,
    tenant_id            TEXT COLLATE "C" NOT NULL,
    tbl                  BIGINT NOT NULL,
    ts                   BIGINT NOT NULL,
    action_type          TEXT,
    device_name          TEXT,
    account_name         TEXT,
    account_domain       TEXT,
    account_sid          TEXT,
    account_upn          TEXT,
    file_name            TEXT,
    folder_path          TEXT,
    sha256               TEXT,
    sha1                 TEXT,
    md5                  TEXT,
    process_id           BIGINT,
    command_line         TEXT,
    parent_file_name     TEXT,
    parent_folder_path   TEXT,
    parent_command_line  TEXT,
    parent_process_id    BIGINT,
    parent_account_name  TEXT,
    remote_ip            TEXT,
    remote_port          BIGINT,
    remote_url           TEXT,
    local_ip             TEXT,
    local_port           BIGINT,
    protocol             TEXT,
    registry_key         TEXT,
    registry_value_name  TEXT,
    registry_value_data  TEXT,
    logon_type           TEXT,
    failure_reason       TEXT,
    application          TEXT,
    location             TEXT,
    object_name          TEXT,
    sender               TEXT,
    recipient            TEXT,
    subject              TEXT,
    additional           TEXT,
    PRIMARY KEY (tenant_id, tbl, ts, seq)
) PARTITION BY RANGE (ts);

-- Partitions that already exist for events (made before this migration)
-- get their hunting twin here; later ones are made by partitions.rs.
DO $$
DECLARE p record;
BEGIN
    FOR p IN SELECT lower_bound, upper_bound, suffix FROM event_partitions LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS hunt_events_p%s PARTITION OF hunt_events FOR VALUES FROM (%s) TO (%s)',
                       p.suffix, p.lower_bound, p.upper_bound);
    END LOOP;
END $$;

CREATE TABLE saved_hunts (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id       TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    query           TEXT NOT NULL,
    description     TEXT NOT NULL,
    interval_secs   BIGINT,
    lookback_secs   BIGINT,
    severity        TEXT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_run        BIGINT,
    -- When the next scheduled run is due (NULL: not scheduled).
    next_run        BIGINT
);

CREATE UNIQUE INDEX saved_hunts_name ON saved_hunts (tenant_id, name);
CREATE INDEX saved_hunts_due ON saved_hunts (next_run) WHERE next_run IS NOT NULL;

-- Rows of a scheduled hunt that already raised an alert.
CREATE TABLE hunt_alerted_rows (
    hunt_id  TEXT COLLATE "C" NOT NULL REFERENCES saved_hunts (id) ON DELETE CASCADE,
    row_key  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (hunt_id, row_key)
);

CREATE TABLE hunt_summaries (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id      TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    hunt_id        TEXT COLLATE "C",
    what           TEXT NOT NULL,
    why            TEXT NOT NULL,
    result         TEXT NOT NULL,
    determination  TEXT NOT NULL,
    query          TEXT NOT NULL,
    author         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE INDEX hunt_summaries_tenant ON hunt_summaries (tenant_id, created_at);

-- `parse_json(x).a.b` in a hunt: the value at an SQL/JSON path as text,
-- NULL when the text is not JSON or the path is absent (as SQLite's
-- json_extract over text that is not JSON is not an error for a hunt).
CREATE FUNCTION hunt_json_path(doc TEXT, path TEXT) RETURNS TEXT
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN jsonb_path_query_first(doc::jsonb, path::jsonpath) #>> '{}';
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
