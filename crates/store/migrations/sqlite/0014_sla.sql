-- SLA timers: one row per timer of an incident's published response. The
-- engine reads the running ones, and records each step it carries out in
-- the same transaction as the notifications the step queues; `version`
-- guards against two writers.
CREATE TABLE sla_timers (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    incident_id       TEXT NOT NULL,
    kind              TEXT NOT NULL,
    target_micros     INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    due_at            INTEGER NOT NULL,
    stopped_at        INTEGER,
    stop_reason       TEXT,
    reminded_half_at  INTEGER,
    half_skipped      INTEGER NOT NULL,
    reminded_due_at   INTEGER,
    breached_at       INTEGER,
    escalation_level  INTEGER NOT NULL,
    escalated_at      INTEGER,
    overdue_micros    INTEGER,
    version           INTEGER NOT NULL
) STRICT;

-- At most one running timer of each kind per incident.
CREATE UNIQUE INDEX sla_timers_running ON sla_timers (incident_id, kind) WHERE stopped_at IS NULL;
CREATE INDEX sla_timers_open ON sla_timers (id) WHERE stopped_at IS NULL;
CREATE INDEX sla_timers_incident ON sla_timers (incident_id, started_at);
CREATE INDEX sla_timers_tenant_due ON sla_timers (tenant_id, due_at);
