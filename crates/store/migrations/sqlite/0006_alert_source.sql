-- Where an alert came from: a Sigma detection rule, a correlation rule (and
-- later a hunting query).
ALTER TABLE alerts ADD COLUMN source TEXT NOT NULL DEFAULT 'sigma';
