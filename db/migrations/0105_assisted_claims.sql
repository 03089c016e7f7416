-- foreign_keys: off
-- Community service station staff (社区服务站) claim vouchers for
-- residents who come to the station, and print them as cards. A staff
-- account is an officer account of a district with its own role, which
-- opens only the station's pages; the role's CHECK cannot be altered in
-- SQLite, so officers are rebuilt (as in 0020).
CREATE TABLE officers_new (
    id                    INTEGER PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL DEFAULT '',
    role                  TEXT NOT NULL CHECK (role IN ('city_admin', 'district_officer', 'auditor',
                                                        'system_admin', 'security_admin', 'audit_admin',
                                                        'station_staff')),
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
        disabled_at, created_by, activation_hash, activation_expires_at, activated_at, totp_secret, totp_enabled_at,
        totp_last_step, failed_count, failed_since, locked_until)
    SELECT id, username, display_name, password_hash, role, district_code, can_approve, created_at,
        disabled_at, created_by, activation_hash, activation_expires_at, activated_at, totp_secret, totp_enabled_at,
        totp_last_step, failed_count, failed_since, locked_until FROM officers;
DROP TABLE officers;
ALTER TABLE officers_new RENAME TO officers;

-- A voucher claimed at a station names the staff member who claimed it
-- (the station is the staff member's district), and when its card was
-- first printed. NULL: the resident claimed it on a phone.
ALTER TABLE vouchers ADD COLUMN assisted_by INTEGER REFERENCES officers(id);
ALTER TABLE vouchers ADD COLUMN printed_at DATETIME;
