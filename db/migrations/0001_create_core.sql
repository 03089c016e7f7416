-- Core schema: reference data, accounts, sessions, campaigns, vouchers, redemptions.
-- Money is INTEGER fen; times are UTC DATETIME written by the driver in one format.

CREATE TABLE districts (
    code    TEXT PRIMARY KEY,               -- GB/T 2260; 500000 = the whole city
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('city', 'district', 'county', 'autonomous_county', 'functional_zone'))
);

CREATE TABLE categories (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE officers (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('city_admin', 'district_officer')),
    district_code TEXT NOT NULL REFERENCES districts(code),
    can_approve   INTEGER NOT NULL DEFAULT 0 CHECK (can_approve IN (0, 1)),
    created_at    DATETIME NOT NULL
);

CREATE TABLE merchants (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    district_code TEXT NOT NULL REFERENCES districts(code),
    category_code TEXT NOT NULL REFERENCES categories(code),
    address       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'suspended', 'rejected')),
    created_at    DATETIME NOT NULL,
    UNIQUE (name, district_code)
);

CREATE TABLE cashiers (
    id            INTEGER PRIMARY KEY,
    merchant_id   INTEGER NOT NULL REFERENCES merchants(id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    DATETIME NOT NULL
);

CREATE TABLE residents (
    id         INTEGER PRIMARY KEY,
    phone      TEXT NOT NULL UNIQUE,          -- normalised 11-digit mainland number
    created_at DATETIME NOT NULL
);

-- One pending code per phone. Only a hash of the code is kept.
CREATE TABLE sms_codes (
    phone         TEXT PRIMARY KEY,
    code_hash     TEXT NOT NULL,
    expires_at    DATETIME NOT NULL,
    attempts_left INTEGER NOT NULL CHECK (attempts_left >= 0),
    sent_at       DATETIME NOT NULL,
    day           TEXT NOT NULL,              -- Asia/Shanghai date of sent_at, for the daily cap
    sent_today    INTEGER NOT NULL CHECK (sent_today >= 1)
);

-- Server-side sessions; the cookie or bearer token is the secret, the row keeps its SHA-256.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('officer', 'cashier', 'resident')),
    subject_id INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE campaigns (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    district_code      TEXT NOT NULL REFERENCES districts(code),
    category_code      TEXT NOT NULL REFERENCES categories(code),
    budget_fen         INTEGER NOT NULL CHECK (budget_fen > 0),
    status             TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected')),
    claim_starts_at    DATETIME NOT NULL,
    claim_ends_at      DATETIME NOT NULL,
    valid_days         INTEGER NOT NULL CHECK (valid_days BETWEEN 1 AND 366),
    per_resident_limit INTEGER NOT NULL CHECK (per_resident_limit BETWEEN 1 AND 100),
    created_by         INTEGER NOT NULL REFERENCES officers(id),
    created_at         DATETIME NOT NULL,
    submitted_at       DATETIME,
    approved_by        INTEGER REFERENCES officers(id),
    approved_at        DATETIME,
    -- Rollups kept in the same transactions as the events they count.
    claimed_count      INTEGER NOT NULL DEFAULT 0 CHECK (claimed_count >= 0),
    redeemed_count     INTEGER NOT NULL DEFAULT 0 CHECK (redeemed_count >= 0),
    subsidy_fen        INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_fen >= 0),
    consumption_fen    INTEGER NOT NULL DEFAULT 0 CHECK (consumption_fen >= 0),
    CHECK (claim_ends_at > claim_starts_at),
    CHECK (approved_by IS NULL OR approved_by <> created_by),
    CHECK (subsidy_fen <= budget_fen)
);
CREATE INDEX campaigns_district ON campaigns(district_code, status);

CREATE TABLE tiers (
    id             INTEGER PRIMARY KEY,
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    face_fen       INTEGER NOT NULL CHECK (face_fen > 0),
    threshold_fen  INTEGER NOT NULL CHECK (threshold_fen = 0 OR threshold_fen >= face_fen),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    remaining      INTEGER NOT NULL CHECK (remaining >= 0),
    claimed_count  INTEGER NOT NULL DEFAULT 0 CHECK (claimed_count >= 0),
    redeemed_count INTEGER NOT NULL DEFAULT 0 CHECK (redeemed_count >= 0),
    CHECK (remaining <= quantity),
    CHECK (claimed_count + remaining <= quantity)
);
CREATE INDEX tiers_campaign ON tiers(campaign_id);

-- How many vouchers a resident holds of a campaign; the guarded upsert on
-- this row is what holds the per-resident limit.
CREATE TABLE resident_claims (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    claimed     INTEGER NOT NULL CHECK (claimed >= 1),
    PRIMARY KEY (campaign_id, resident_id)
);

CREATE TABLE vouchers (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,          -- manual code, 16 Crockford base32 chars
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    tier_id     INTEGER NOT NULL REFERENCES tiers(id),
    resident_id INTEGER NOT NULL REFERENCES residents(id),
    slot        INTEGER NOT NULL CHECK (slot >= 1), -- n-th voucher of this resident in this campaign
    request_key TEXT,                          -- the claim's idempotency key: a double tap gets the same voucher
    status      TEXT NOT NULL CHECK (status IN ('claimed', 'redeemed')),
    token       TEXT NOT NULL,                 -- the signed JWT; a QR's content never changes
    claimed_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    redeemed_at DATETIME,
    UNIQUE (campaign_id, resident_id, slot),
    UNIQUE (resident_id, request_key)
);
CREATE INDEX vouchers_resident ON vouchers(resident_id, claimed_at);

CREATE TABLE redemptions (
    id              INTEGER PRIMARY KEY,
    voucher_id      INTEGER NOT NULL UNIQUE REFERENCES vouchers(id),
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id),
    merchant_id     INTEGER NOT NULL REFERENCES merchants(id),
    cashier_id      INTEGER NOT NULL REFERENCES cashiers(id),
    bill_fen        INTEGER NOT NULL CHECK (bill_fen > 0),
    discount_fen    INTEGER NOT NULL CHECK (discount_fen > 0 AND discount_fen <= bill_fen),
    idempotency_key TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX redemptions_campaign ON redemptions(campaign_id, created_at);

-- Which seed sets have been loaded, so a restart seeds nothing twice.
CREATE TABLE seed_runs (
    name      TEXT PRIMARY KEY,
    loaded_at DATETIME NOT NULL
);
