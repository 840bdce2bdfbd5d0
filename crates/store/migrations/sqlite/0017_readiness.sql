-- Readiness assessments (PRODUCT.md §4). Every run is kept, so progress
-- shows over time; its checks are JSON in vigil_core::readiness's serde
-- shape. Per tenant: when the next scheduled run is due (the scheduler
-- reads it, so the schedule survives restarts) and which failing checks
-- have been notified (so a regression notifies once, not on every run).

CREATE TABLE readiness_runs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    run_at     INTEGER NOT NULL,
    trigger    TEXT NOT NULL,
    score      REAL NOT NULL,
    ready      INTEGER NOT NULL CHECK (ready IN (0, 1)),
    body       TEXT NOT NULL
) STRICT;

CREATE INDEX readiness_runs_tenant ON readiness_runs (tenant_id, seq DESC);

CREATE TABLE readiness_state (
    tenant_id  TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id),
    next_due   INTEGER,
    notified   TEXT NOT NULL DEFAULT '[]'
) STRICT;
