-- Threat hunting (docs/hunting.md): the hunting projection, saved and
-- scheduled hunts, rows that already raised an alert, hunting summaries.

-- One typed row per event that belongs to a hunting table, written with
-- the event (same transaction). `tbl` is the table's code (vigil-hunt's
-- schema::code); the columns are shared by every table. Hunts read only
-- this table, never the raw records. Clustered by tenant, table and time
-- (WITHOUT ROWID), so the time range of a hunt is one sequential read
-- whatever order the events arrived in.
CREATE TABLE hunt_events (
    seq                  INTEGER NOT NULL,
    tenant_id            TEXT NOT NULL,
    tbl                  INTEGER NOT NULL,
    ts                   INTEGER NOT NULL,
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
    process_id           INTEGER,
    command_line         TEXT,
    parent_file_name     TEXT,
    parent_folder_path   TEXT,
    parent_command_line  TEXT,
    parent_process_id    INTEGER,
    parent_account_name  TEXT,
    remote_ip            TEXT,
    remote_port          INTEGER,
    remote_url           TEXT,
    local_ip             TEXT,
    local_port           INTEGER,
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
) STRICT, WITHOUT ROWID;

CREATE TABLE saved_hunts (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    query           TEXT NOT NULL,
    description     TEXT NOT NULL,
    interval_secs   INTEGER,
    lookback_secs   INTEGER,
    severity        TEXT,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_run        INTEGER,
    -- When the next scheduled run is due (NULL: not scheduled).
    next_run        INTEGER
) STRICT;

CREATE UNIQUE INDEX saved_hunts_name ON saved_hunts (tenant_id, name);
CREATE INDEX saved_hunts_due ON saved_hunts (next_run) WHERE next_run IS NOT NULL;

-- Rows of a scheduled hunt that already raised an alert (a row raises one
-- alert, not one per run).
CREATE TABLE hunt_alerted_rows (
    hunt_id  TEXT NOT NULL REFERENCES saved_hunts (id) ON DELETE CASCADE,
    row_key  TEXT NOT NULL,
    PRIMARY KEY (hunt_id, row_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE hunt_summaries (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    hunt_id        TEXT,
    what           TEXT NOT NULL,
    why            TEXT NOT NULL,
    result         TEXT NOT NULL,
    determination  TEXT NOT NULL,
    query          TEXT NOT NULL,
    author         TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX hunt_summaries_tenant ON hunt_summaries (tenant_id, created_at);
