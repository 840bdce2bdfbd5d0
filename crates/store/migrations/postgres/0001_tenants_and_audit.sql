-- Tenants and the hash-chained audit log (the PostgreSQL schema mirrors
-- migrations/sqlite; timestamps are BIGINT microseconds since the Unix
-- epoch, flags and counters BIGINT so both backends decode the same i64;
-- text compares byte by byte (COLLATE "C") as in SQLite, so orderings and
-- keyset cursors do not depend on the server's locale).

CREATE TABLE tenants (
    id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    slug            TEXT COLLATE "C" NOT NULL UNIQUE,
    name            TEXT COLLATE "C" NOT NULL,
    lifecycle       TEXT COLLATE "C" NOT NULL CHECK (lifecycle IN ('onboarding', 'monitoring', 'live', 'offboarding', 'deleted')),
    lifecycle_since BIGINT NOT NULL,
    settings        TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL
);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT COLLATE "C" NOT NULL,
    action     TEXT COLLATE "C" NOT NULL,
    tenant_id  TEXT COLLATE "C",
    target     TEXT COLLATE "C" NOT NULL,
    details    TEXT COLLATE "C" NOT NULL,
    prev_hash  TEXT COLLATE "C" NOT NULL,
    hash       TEXT COLLATE "C" NOT NULL UNIQUE
);

CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);

-- Append-only: the application never updates or deletes audit records.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
