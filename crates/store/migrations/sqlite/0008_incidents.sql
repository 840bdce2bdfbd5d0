-- Incidents: alerts grouped by shared entities. The correlation summary is
-- kept as JSON (`summary`, vigil_core::incident::Incident); the columns
-- beside it are what lists filter and sort on, and what analysts set.

CREATE TABLE incidents (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    status          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    title           TEXT NOT NULL,
    first_activity  INTEGER NOT NULL,
    last_activity   INTEGER NOT NULL,
    alert_count     INTEGER NOT NULL,
    assigned_to     TEXT,
    classification  TEXT,
    determination   TEXT,
    tags            TEXT NOT NULL DEFAULT '[]',
    summary         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
) STRICT;

CREATE INDEX incidents_activity ON incidents (tenant_id, last_activity DESC, id DESC);
CREATE INDEX incidents_open ON incidents (tenant_id, status);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- Every change to an incident: who, when, what, and why.
CREATE TABLE incident_activity (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    at           INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    details      TEXT NOT NULL
) STRICT;

CREATE INDEX incident_activity_incident ON incident_activity (incident_id, id);
