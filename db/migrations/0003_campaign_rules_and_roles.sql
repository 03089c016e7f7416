-- foreign_keys: off
-- Officers gain the auditor role and can be disabled; campaigns gain the
-- full lifecycle (paused, ended), seasons, several categories, release
-- schedules (drops), daily and per-tier limits, fixed-date validity,
-- eligible-merchant lists and budget raises awaiting approval.
-- CHECK constraints cannot be altered in SQLite, so officers and campaigns
-- are rebuilt (SQLite's twelve-step procedure; the runner turns foreign
-- keys off around this file and checks them before committing).

CREATE TABLE officers_new (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('city_admin', 'district_officer', 'auditor')),
    district_code TEXT NOT NULL REFERENCES districts(code),
    can_approve   INTEGER NOT NULL DEFAULT 0 CHECK (can_approve IN (0, 1)),
    created_at    DATETIME NOT NULL,
    disabled_at   DATETIME,
    CHECK (role <> 'auditor' OR can_approve = 0)
);
INSERT INTO officers_new (id, username, display_name, password_hash, role, district_code, can_approve, created_at)
    SELECT id, username, display_name, password_hash, role, district_code, can_approve, created_at FROM officers;
DROP TABLE officers;
ALTER TABLE officers_new RENAME TO officers;

CREATE TABLE campaigns_new (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    season             TEXT NOT NULL DEFAULT '',
    district_code      TEXT NOT NULL REFERENCES districts(code),
    category_code      TEXT NOT NULL REFERENCES categories(code), -- the first of the campaign's categories
    budget_fen         INTEGER NOT NULL CHECK (budget_fen > 0),
    pending_budget_fen INTEGER CHECK (pending_budget_fen IS NULL OR pending_budget_fen > budget_fen),
    pending_by         INTEGER REFERENCES officers(id),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'paused', 'ended', 'rejected')),
    rejection_reason   TEXT NOT NULL DEFAULT '',
    claim_starts_at    DATETIME NOT NULL,
    claim_ends_at      DATETIME NOT NULL,
    validity_mode      TEXT NOT NULL DEFAULT 'days' CHECK (validity_mode IN ('days', 'fixed')),
    valid_days         INTEGER NOT NULL CHECK (valid_days BETWEEN 0 AND 366),
    valid_from         DATETIME,
    valid_until        DATETIME,
    per_resident_limit INTEGER NOT NULL CHECK (per_resident_limit BETWEEN 1 AND 100),
    per_day_limit      INTEGER NOT NULL DEFAULT 0 CHECK (per_day_limit BETWEEN 0 AND 100),  -- 0 = none
    per_tier_limit     INTEGER NOT NULL DEFAULT 0 CHECK (per_tier_limit BETWEEN 0 AND 100), -- 0 = none
    release_mode       TEXT NOT NULL DEFAULT 'once' CHECK (release_mode IN ('once', 'drops')),
    drop_rollover      INTEGER NOT NULL DEFAULT 1 CHECK (drop_rollover IN (0, 1)),          -- unclaimed stock rolls into the next drop (1) or lapses (0)
    recycle_expired    INTEGER NOT NULL DEFAULT 0 CHECK (recycle_expired IN (0, 1)),
    created_by         INTEGER NOT NULL REFERENCES officers(id),
    created_at         DATETIME NOT NULL,
    submitted_at       DATETIME,
    approved_by        INTEGER REFERENCES officers(id),
    approved_at        DATETIME,
    claimed_count      INTEGER NOT NULL DEFAULT 0 CHECK (claimed_count >= 0),
    redeemed_count     INTEGER NOT NULL DEFAULT 0 CHECK (redeemed_count >= 0),
    subsidy_fen        INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_fen >= 0),
    consumption_fen    INTEGER NOT NULL DEFAULT 0 CHECK (consumption_fen >= 0),
    CHECK (claim_ends_at > claim_starts_at),
    CHECK (approved_by IS NULL OR approved_by <> created_by),
    CHECK (subsidy_fen <= budget_fen),
    CHECK (validity_mode = 'days' AND valid_days >= 1
        OR validity_mode = 'fixed' AND valid_from IS NOT NULL AND valid_until > valid_from)
);
INSERT INTO campaigns_new (id, name, district_code, category_code, budget_fen, status, claim_starts_at, claim_ends_at,
        valid_days, per_resident_limit, created_by, created_at, submitted_at, approved_by, approved_at,
        claimed_count, redeemed_count, subsidy_fen, consumption_fen)
    SELECT id, name, district_code, category_code, budget_fen, status, claim_starts_at, claim_ends_at,
        valid_days, per_resident_limit, created_by, created_at, submitted_at, approved_by, approved_at,
        claimed_count, redeemed_count, subsidy_fen, consumption_fen FROM campaigns;
DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;
CREATE INDEX campaigns_district ON campaigns(district_code, status);

-- Every category a campaign's vouchers may be spent on.
CREATE TABLE campaign_categories (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    category_code TEXT NOT NULL REFERENCES categories(code),
    PRIMARY KEY (campaign_id, category_code)
);
INSERT INTO campaign_categories (campaign_id, category_code) SELECT id, category_code FROM campaigns;

-- Merchants named explicitly: included beyond the category/district rule, or excluded from it.
CREATE TABLE campaign_merchants (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    mode        TEXT NOT NULL CHECK (mode IN ('include', 'exclude')),
    PRIMARY KEY (campaign_id, merchant_id)
);

-- Released stock: once-campaigns release everything at creation; drop
-- campaigns release each drop when its time comes (inside the first
-- claim transaction after it, so the release is exact to the second).
ALTER TABLE tiers ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tiers ADD COLUMN lapsed INTEGER NOT NULL DEFAULT 0;
UPDATE tiers SET released = quantity;

CREATE TABLE drops (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    tier_id     INTEGER NOT NULL REFERENCES tiers(id),
    opens_at    DATETIME NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    released_at DATETIME,
    UNIQUE (tier_id, opens_at)
);
CREATE INDEX drops_due ON drops(tier_id, released_at, opens_at);

-- Limits per day and per tier, held by guarded upserts like the campaign limit.
CREATE TABLE resident_day_claims (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    day         TEXT NOT NULL,                -- Asia/Shanghai date
    claimed     INTEGER NOT NULL CHECK (claimed >= 1),
    PRIMARY KEY (campaign_id, resident_id, day)
);
CREATE TABLE resident_tier_claims (
    tier_id     INTEGER NOT NULL REFERENCES tiers(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    claimed     INTEGER NOT NULL CHECK (claimed >= 1),
    PRIMARY KEY (tier_id, resident_id)
);

-- A voucher with fixed-date validity cannot be spent before valid_from.
ALTER TABLE vouchers ADD COLUMN valid_from DATETIME;
