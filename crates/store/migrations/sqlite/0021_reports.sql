-- Service reports: which monthly report went to which tenant (one row per
-- tenant and month, written in the same transaction as the notification
-- that carries it, so a restart never sends a month twice), and the index
-- the report's reads of a period's incidents use.
CREATE TABLE report_deliveries (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    period           TEXT NOT NULL,
    notification_id  TEXT NOT NULL REFERENCES notifications (id),
    sent_at          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, period)
) STRICT;

CREATE INDEX incidents_created ON incidents (tenant_id, created_at);
CREATE INDEX tasks_tenant_updated ON tasks (tenant_id, updated_at);
