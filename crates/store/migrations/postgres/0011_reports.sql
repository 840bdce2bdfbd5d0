-- Service reports: which monthly report went to which tenant (one row per
-- tenant and month, written in the same transaction as the notification
-- that carries it, so a restart never sends a month twice), and the
-- indexes the report's reads of a period use.
CREATE TABLE report_deliveries (
    tenant_id        TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    period           TEXT COLLATE "C" NOT NULL,
    notification_id  TEXT COLLATE "C" NOT NULL REFERENCES notifications (id),
    sent_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, period)
);

CREATE INDEX incidents_created ON incidents (tenant_id, created_at);
CREATE INDEX tasks_tenant_updated ON tasks (tenant_id, updated_at);
