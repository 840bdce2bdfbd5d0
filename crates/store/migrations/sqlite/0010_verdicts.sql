-- Analysts' verdicts on entities, per tenant.
CREATE TABLE entity_verdicts (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('malicious', 'suspicious', 'clean', 'unknown')),
    set_by     TEXT NOT NULL,
    set_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, value)
) STRICT, WITHOUT ROWID;
