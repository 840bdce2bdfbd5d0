-- Response tasks and the history of every change to them.
CREATE TABLE tasks (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    status       TEXT NOT NULL,
    due_at       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX tasks_incident ON tasks (incident_id);
CREATE INDEX tasks_open ON tasks (tenant_id, status, due_at);

CREATE TABLE task_history (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id  TEXT NOT NULL REFERENCES tasks (id),
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    change   TEXT NOT NULL
) STRICT;

CREATE INDEX task_history_task ON task_history (task_id, id);
