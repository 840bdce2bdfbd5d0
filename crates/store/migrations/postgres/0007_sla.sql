-- SLA timers: one row per timer of an incident's published response;
-- `version` guards each step against two writers.

CREATE TABLE sla_timers (
    id                TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id         TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    incident_id       TEXT COLLATE "C" NOT NULL,
    kind              TEXT COLLATE "C" NOT NULL,
    target_micros     BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    due_at            BIGINT NOT NULL,
    stopped_at        BIGINT,
    stop_reason       TEXT COLLATE "C",
    reminded_half_at  BIGINT,
    half_skipped      BIGINT NOT NULL,
    reminded_due_at   BIGINT,
    breached_at       BIGINT,
    escalation_level  BIGINT NOT NULL,
    escalated_at      BIGINT,
    overdue_micros    BIGINT,
    version           BIGINT NOT NULL
);

CREATE UNIQUE INDEX sla_timers_running ON sla_timers (incident_id, kind) WHERE stopped_at IS NULL;
CREATE INDEX sla_timers_open ON sla_timers (id) WHERE stopped_at IS NULL;
CREATE INDEX sla_timers_incident ON sla_timers (incident_id, started_at);
CREATE INDEX sla_timers_tenant_due ON sla_timers (tenant_id, due_at);
