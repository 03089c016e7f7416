-- A move of unclaimed quantity from one tier of a running campaign to
-- another, asked by one officer and applied when a second approves it,
-- like a budget raise: the request waits on the campaign row.
ALTER TABLE campaigns ADD COLUMN pending_move_from bigint REFERENCES tiers(id);
ALTER TABLE campaigns ADD COLUMN pending_move_to bigint REFERENCES tiers(id);
ALTER TABLE campaigns ADD COLUMN pending_move_n bigint CHECK (pending_move_n > 0);
ALTER TABLE campaigns ADD COLUMN pending_move_by bigint REFERENCES officers(id);
