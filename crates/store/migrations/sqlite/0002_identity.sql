-- Users, their API tokens, and tenants' ingest keys. Secrets are stored
-- only as hashes: argon2id PHC strings for passwords, SHA-256 for tokens
-- and keys (which are long random values).

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL CHECK (role IN ('provider_admin', 'analyst', 'delivery_manager', 'customer_admin', 'customer_responder', 'customer_reader')),
    tenant_id      TEXT REFERENCES tenants (id),
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    disabled       INTEGER NOT NULL DEFAULT 0,
    CHECK ((role IN ('provider_admin', 'analyst', 'delivery_manager')) = (tenant_id IS NULL))
) STRICT;

CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE ingest_keys (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
