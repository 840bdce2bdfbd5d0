-- Conversations: inquiries, incident chat and inquiry messages, read marks.

CREATE TABLE inquiries (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    subject     TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    created_by  TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    closed_by   TEXT COLLATE "C"
);

CREATE INDEX inquiries_tenant ON inquiries (tenant_id, updated_at);

CREATE TABLE messages (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id    TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    thread_kind  TEXT COLLATE "C" NOT NULL,
    thread_id    TEXT COLLATE "C" NOT NULL,
    author       TEXT COLLATE "C" NOT NULL,
    side         TEXT COLLATE "C" NOT NULL,
    body         TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX messages_thread ON messages (thread_kind, thread_id, created_at);
CREATE INDEX messages_tenant ON messages (tenant_id, created_at);

CREATE TABLE message_reads (
    reader      TEXT COLLATE "C" NOT NULL,
    message_id  TEXT COLLATE "C" NOT NULL REFERENCES messages (id),
    read_at     BIGINT NOT NULL,
    PRIMARY KEY (reader, message_id)
);
