-- Posture recommendations (PRODUCT.md §10): one row per tenant and
-- knowledge-base entry (so raising twice links, never copies), the whole
-- recommendation as JSON in vigil_core::recommendation's serde shape, the
-- history of every change, and the posture score after each change (its
-- trend).

CREATE TABLE recommendations (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    kb_id       TEXT NOT NULL,
    status      TEXT NOT NULL,
    expires_at  INTEGER,
    body        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, kb_id)
) STRICT;

CREATE INDEX recommendations_expiry ON recommendations (status, expires_at);

CREATE TABLE recommendation_history (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    recommendation_id  TEXT NOT NULL REFERENCES recommendations (id),
    at                 INTEGER NOT NULL,
    actor              TEXT NOT NULL,
    change             TEXT NOT NULL
) STRICT;

CREATE INDEX recommendation_history_rec ON recommendation_history (recommendation_id, id);

CREATE TABLE posture_scores (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    at         INTEGER NOT NULL,
    achieved   INTEGER NOT NULL,
    possible   INTEGER NOT NULL
) STRICT;

CREATE INDEX posture_scores_tenant ON posture_scores (tenant_id, seq DESC);
