-- Major incidents (PRODUCT.md §11): beside each incident, whether it is
-- major (a column, for lists), the criteria that fired with their evidence
-- and who raised or cleared the flag (`major_state`, JSON of
-- vigil_core::major::MajorState), and the IR engagement record
-- (`ir_engagement`, JSON of vigil_core::major::IrEngagement).

ALTER TABLE incidents ADD COLUMN major INTEGER NOT NULL DEFAULT 0 CHECK (major IN (0, 1));
ALTER TABLE incidents ADD COLUMN major_state TEXT;
ALTER TABLE incidents ADD COLUMN ir_engagement TEXT;

CREATE INDEX incidents_major ON incidents (tenant_id, major) WHERE major = 1;
