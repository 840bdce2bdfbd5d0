-- Notifications, their deliveries (one per destination) and every attempt
-- to send one: the delivery log.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    kind         TEXT NOT NULL,
    incident_id  TEXT,
    created_at   INTEGER NOT NULL,
    body         TEXT NOT NULL
) STRICT;

CREATE INDEX notifications_tenant ON notifications (tenant_id, id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    notification_id  TEXT NOT NULL REFERENCES notifications (id),
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    destination      TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    last_error       TEXT,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_tenant ON deliveries (tenant_id, id);
CREATE INDEX deliveries_notification ON deliveries (notification_id);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  TEXT NOT NULL REFERENCES deliveries (id),
    at           INTEGER NOT NULL,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL
) STRICT;

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
