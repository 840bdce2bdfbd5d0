-- Detection rule packs (Sigma YAML as added), each rule's summary, and
-- per-tenant tuning: rules turned off, and exclusions.

CREATE TABLE rule_packs (
    name      TEXT PRIMARY KEY NOT NULL,
    source    TEXT NOT NULL,
    added_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE rule_files (
    pack  TEXT NOT NULL REFERENCES rule_packs (name) ON DELETE CASCADE,
    path  TEXT NOT NULL,
    yaml  TEXT NOT NULL,
    PRIMARY KEY (pack, path)
) STRICT;

CREATE TABLE rules (
    id      TEXT PRIMARY KEY NOT NULL,
    pack    TEXT NOT NULL REFERENCES rule_packs (name) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    title   TEXT NOT NULL,
    level   TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('detection', 'correlation'))
) STRICT;

CREATE INDEX rules_pack ON rules (pack);

-- A rule turned off (or back on) for one tenant; absent: on.
CREATE TABLE tenant_rules (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    rule_id     TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, rule_id)
) STRICT;

-- Matches a tenant does not want alerted: of one rule or (rule_id NULL)
-- every rule, where an event field or an entity has a value.
CREATE TABLE rule_exclusions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    rule_id     TEXT,
    matcher     TEXT NOT NULL,
    value       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
) STRICT;

CREATE INDEX rule_exclusions_tenant ON rule_exclusions (tenant_id);
