-- Investigation summaries, every saved version kept.
CREATE TABLE incident_summaries (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    version      INTEGER NOT NULL,
    published    INTEGER NOT NULL,
    body         TEXT NOT NULL,
    author       TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (incident_id, version)
) STRICT;
