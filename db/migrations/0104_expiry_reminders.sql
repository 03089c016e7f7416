-- Expiry reminders: a resident may ask, for one voucher, for a text the
-- day before it expires. One row per voucher asked for: opted_in is the
-- resident's latest choice; claimed_at marks a sweep sending it (until a
-- lease runs out, so two processes never send the same one); a failed
-- send counts an attempt and waits until next_try_at; reminded_at is set
-- once it is sent (never again), gave_up_at after the last attempt.
CREATE TABLE voucher_reminders (
    voucher_id  INTEGER PRIMARY KEY REFERENCES vouchers(id),
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    opted_in    INTEGER NOT NULL CHECK (opted_in IN (0, 1)),
    changed_at  DATETIME NOT NULL,
    claimed_at  DATETIME,
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_try_at DATETIME,
    reminded_at DATETIME,
    gave_up_at  DATETIME,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX voucher_reminders_due ON voucher_reminders (voucher_id) WHERE opted_in = 1 AND reminded_at IS NULL AND gave_up_at IS NULL;
CREATE INDEX voucher_reminders_sent ON voucher_reminders (campaign_id, reminded_at) WHERE reminded_at IS NOT NULL;
