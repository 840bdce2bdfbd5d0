-- The execution record of managed tasks: one line per delivery attempt
-- through the tenant's response connector (or a manual start), and one per
-- outcome the connector calls back with. A line with `next_attempt_at` is
-- a pending attempt, due then: timers live here, so they survive restarts.
CREATE TABLE task_executions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id          TEXT NOT NULL REFERENCES tasks (id),
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    connector        TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    detail           TEXT NOT NULL,
    next_attempt_at  INTEGER
) STRICT;

CREATE INDEX task_executions_task ON task_executions (task_id, id);
CREATE INDEX task_executions_due ON task_executions (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
