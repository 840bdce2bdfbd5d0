-- Analysts' work on incidents: comments, and alert status (resolving an
-- incident resolves its alerts).
CREATE TABLE incident_comments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    at           INTEGER NOT NULL,
    author       TEXT NOT NULL,
    body         TEXT NOT NULL
) STRICT;

CREATE INDEX incident_comments_incident ON incident_comments (incident_id, id);

ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
