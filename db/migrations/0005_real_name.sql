-- The optional real-name step: a resident's 18-digit ID is kept only as a
-- keyed hash, and one ID binds one account, so "one per person" holds
-- across phone numbers for campaigns that require it.
ALTER TABLE residents ADD COLUMN id_hash TEXT;
CREATE UNIQUE INDEX residents_id_hash ON residents(id_hash) WHERE id_hash IS NOT NULL;
ALTER TABLE campaigns ADD COLUMN require_real_name INTEGER NOT NULL DEFAULT 0 CHECK (require_real_name IN (0, 1));
