-- The hot rows of a drop, gone (docs/postgres.md, "Hot rows").
--
-- A tier's stock lives in buckets: a claim takes one unit from a bucket
-- that no other transaction holds (FOR UPDATE SKIP LOCKED), so claims of
-- one tier no longer wait for each other's COMMIT. The sum of a tier's
-- buckets is its stock; tiers.remaining and tiers.claimed_count follow
-- through counter_deltas like every other counter.
CREATE TABLE tier_stock (
    tier_id   bigint NOT NULL REFERENCES tiers(id) ON DELETE CASCADE,
    bucket    integer NOT NULL CHECK (bucket >= 0),
    remaining bigint NOT NULL CHECK (remaining >= 0),
    PRIMARY KEY (tier_id, bucket)
);

-- What a transaction adds to a counter or rollup row, written as a row of
-- its own (insert-only: no two writers touch one row) and folded into the
-- counter row later by one process at a time. Readers add the rows not
-- yet folded (the counted(...) form of the store's reads), so what they
-- read is what committed.
CREATE TABLE counter_deltas (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    counter text NOT NULL,   -- which counter statement (db/counters.go)
    k1      bigint NOT NULL, -- the row's first key: a campaign or tier id
    k2      text,            -- its second key, as text; NULL if none
    n1      bigint NOT NULL DEFAULT 0,
    n2      bigint NOT NULL DEFAULT 0,
    n3      bigint NOT NULL DEFAULT 0,
    n4      bigint NOT NULL DEFAULT 0,
    n5      bigint NOT NULL DEFAULT 0,
    n6      bigint NOT NULL DEFAULT 0
);

-- Tiers made before buckets: their stock, spread over the buckets.
INSERT INTO tier_stock (tier_id, bucket, remaining)
SELECT t.id, b, t.remaining / 32 + CASE WHEN b < t.remaining % 32 THEN 1 ELSE 0 END
FROM tiers t CROSS JOIN generate_series(0, 31) AS b;
