-- A move of unclaimed quantity from one tier of a running campaign to
-- another, asked by one officer and applied when a second approves it,
-- like a budget raise: the request waits on the campaign row.
ALTER TABLE campaigns ADD COLUMN pending_move_from INTEGER REFERENCES tiers(id);
ALTER TABLE campaigns ADD COLUMN pending_move_to INTEGER REFERENCES tiers(id);
ALTER TABLE campaigns ADD COLUMN pending_move_n INTEGER CHECK (pending_move_n > 0);
ALTER TABLE campaigns ADD COLUMN pending_move_by INTEGER REFERENCES officers(id);
