-- A sign-in code belongs to the number and to who asked for it (a keyed
-- hash of the requesting address): a stranger who knows a number guesses
-- against, and uses up, only the codes they asked for themselves, never
-- the owner's. Pending codes live minutes; those already sent stay usable
-- by anyone, as before (requester '').
CREATE TABLE sms_codes_by_requester (
    phone         TEXT NOT NULL,
    requester     TEXT NOT NULL,
    code_hash     TEXT NOT NULL,
    expires_at    DATETIME NOT NULL,
    attempts_left INTEGER NOT NULL CHECK (attempts_left >= 0),
    sent_at       DATETIME NOT NULL,
    day           TEXT NOT NULL,              -- Asia/Shanghai date of sent_at, for the daily cap
    sent_today    INTEGER NOT NULL CHECK (sent_today >= 1),
    PRIMARY KEY (phone, requester)
);
INSERT INTO sms_codes_by_requester (phone, requester, code_hash, expires_at, attempts_left, sent_at, day, sent_today)
    SELECT phone, '', code_hash, expires_at, attempts_left, sent_at, day, sent_today FROM sms_codes;
DROP TABLE sms_codes;
ALTER TABLE sms_codes_by_requester RENAME TO sms_codes;

-- How many codes were sent in a budget's period: the whole service and
-- each carrier block (the first 7 digits) per hour and per day, and each
-- number (as a keyed hash) per quarter hour. A send fits every budget or
-- is refused; periods sort as text and start with their date.
CREATE TABLE sms_budgets (
    scope  TEXT NOT NULL,                     -- 'global', 'prefix:1380013', 'number:<hash>'
    period TEXT NOT NULL,                     -- '2026-11-25' (day), '2026-11-25T10' (hour), '2026-11-25T10:15' (quarter)
    sent   INTEGER NOT NULL CHECK (sent >= 1),
    PRIMARY KEY (scope, period)
);
CREATE INDEX sms_budgets_period ON sms_budgets(period);
