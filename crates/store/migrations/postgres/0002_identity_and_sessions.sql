-- Users, their API tokens, tenants' ingest keys (secrets only as hashes),
-- portal sessions and the wrong-password counter.

CREATE TABLE users (
    id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    email          TEXT COLLATE "C" NOT NULL UNIQUE,
    role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('provider_admin', 'analyst', 'delivery_manager', 'customer_admin', 'customer_responder', 'customer_reader')),
    tenant_id      TEXT COLLATE "C" REFERENCES tenants (id),
    password_hash  TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    disabled       BIGINT NOT NULL DEFAULT 0,
    CHECK ((role IN ('provider_admin', 'analyst', 'delivery_manager')) = (tenant_id IS NULL))
);

CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE api_tokens (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    name        TEXT COLLATE "C" NOT NULL,
    token_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE ingest_keys (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    name        TEXT COLLATE "C" NOT NULL,
    key_hash    TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE INDEX ingest_keys_tenant ON ingest_keys (tenant_id);

CREATE TABLE sessions (
    id            TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    session_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

CREATE INDEX sessions_user ON sessions (user_id);

-- Keyed by the (lowercase) email typed, known user or not.
CREATE TABLE login_failures (
    email         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    failures      BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    locked_until  BIGINT
);
