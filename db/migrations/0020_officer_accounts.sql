-- foreign_keys: off
-- Officer accounts for a level-3 assessment (GB/T 22239-2019):
--  * the separation-of-duties roles: system administrator (accounts and
--    roles), security administrator (second factors, lockouts) and audit
--    administrator (reads the audit log);
--  * who created each account (created_by), for the maker-checker rule;
--  * activation by the holder: a one-time code (stored hashed, expiring)
--    instead of a password chosen by the creator; password_hash is ''
--    until the holder sets one;
--  * a TOTP second factor (the secret sealed, never plain) with the last
--    accepted time step, so that a code is accepted once;
--  * failed sign-ins counted per account and a lock that ends by itself.
-- The CHECK on role cannot be altered in SQLite, so officers are rebuilt.

CREATE TABLE officers_new (
    id                    INTEGER PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL DEFAULT '',
    role                  TEXT NOT NULL CHECK (role IN ('city_admin', 'district_officer', 'auditor',
                                                        'system_admin', 'security_admin', 'audit_admin')),
    district_code         TEXT NOT NULL REFERENCES districts(code),
    can_approve           INTEGER NOT NULL DEFAULT 0 CHECK (can_approve IN (0, 1)),
    created_at            DATETIME NOT NULL,
    disabled_at           DATETIME,
    created_by            INTEGER REFERENCES officers(id),   -- NULL: made by the product (seed, migration)
    activation_hash       TEXT,                              -- SHA-256 of the one-time activation code
    activation_expires_at DATETIME,
    activated_at          DATETIME,
    totp_secret           TEXT NOT NULL DEFAULT '',          -- sealed (see app.sealSecret); '' = none
    totp_enabled_at       DATETIME,                          -- NULL: enrolment not finished
    totp_last_step        INTEGER NOT NULL DEFAULT 0,        -- last accepted RFC 6238 time step
    failed_count          INTEGER NOT NULL DEFAULT 0,
    failed_since          DATETIME,
    locked_until          DATETIME,
    CHECK (role IN ('city_admin', 'district_officer') OR can_approve = 0),
    CHECK (activated_at IS NOT NULL OR activation_hash IS NOT NULL)
);
INSERT INTO officers_new (id, username, display_name, password_hash, role, district_code, can_approve, created_at,
        disabled_at, activated_at)
    SELECT id, username, display_name, password_hash, role, district_code, can_approve, created_at,
        disabled_at, created_at FROM officers;
DROP TABLE officers;
ALTER TABLE officers_new RENAME TO officers;

-- Recovery codes: ten per enrolment, stored hashed, each used once.
CREATE TABLE officer_recovery_codes (
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    code_hash  TEXT NOT NULL,
    used_at    DATETIME,
    PRIMARY KEY (officer_id, code_hash)
);

ALTER TABLE cashiers ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cashiers ADD COLUMN failed_since DATETIME;
ALTER TABLE cashiers ADD COLUMN locked_until DATETIME;

-- Sessions learn when they were last used (idle sessions end) and a
-- kind for an officer who has proven the password but not yet enrolled
-- the second factor: such a session opens only the enrolment page.
CREATE TABLE sessions_new (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('officer', 'cashier', 'resident', 'officer_enrol')),
    subject_id   INTEGER NOT NULL,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    last_seen_at DATETIME
);
INSERT INTO sessions_new (token_hash, kind, subject_id, created_at, expires_at, last_seen_at)
    SELECT token_hash, kind, subject_id, created_at, expires_at, created_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_expiry ON sessions(expires_at);
