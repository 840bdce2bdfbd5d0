-- Portal sessions (the cookie's secret stored only as SHA-256) and the
-- wrong-password counter that locks an account for a while.

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    session_hash  TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

-- Keyed by the (lowercase) email typed, known user or not, so that a lockout
-- tells nothing about which accounts exist.
CREATE TABLE login_failures (
    email         TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    locked_until  INTEGER
) STRICT;

CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX ingest_keys_tenant ON ingest_keys (tenant_id);
