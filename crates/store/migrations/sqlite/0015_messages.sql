-- Conversations between the customer and the experts: internal comments
-- (the experts' only), incident chat and inquiries, and who read what.
ALTER TABLE incident_comments ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;

CREATE TABLE inquiries (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    subject     TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    closed_by   TEXT
) STRICT;

CREATE INDEX inquiries_tenant ON inquiries (tenant_id, updated_at);

-- `thread_id` is an incident's or an inquiry's id, by `thread_kind`.
CREATE TABLE messages (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    thread_kind  TEXT NOT NULL,
    thread_id    TEXT NOT NULL,
    author       TEXT NOT NULL,
    side         TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX messages_thread ON messages (thread_kind, thread_id, created_at);
CREATE INDEX messages_tenant ON messages (tenant_id, created_at);

-- A row per (reader, message) read; a reader's own messages count as read
-- without one.
CREATE TABLE message_reads (
    reader      TEXT NOT NULL,
    message_id  TEXT NOT NULL REFERENCES messages (id),
    read_at     INTEGER NOT NULL,
    PRIMARY KEY (reader, message_id)
) STRICT, WITHOUT ROWID;
