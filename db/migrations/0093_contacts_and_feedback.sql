-- Who residents call: each district's organising office, its hotline and
-- office hours, as a district officer keeps them (one row per district;
-- a district without one is simply not listed).
CREATE TABLE district_contacts (
    district_code TEXT PRIMARY KEY REFERENCES districts(code),
    office_name   TEXT NOT NULL,
    hotline       TEXT NOT NULL,
    office_hours  TEXT NOT NULL,
    address       TEXT NOT NULL DEFAULT '',
    updated_at    DATETIME NOT NULL,
    updated_by    INTEGER REFERENCES officers(id)   -- NULL: the seed
);

-- Residents' feedback and complaints, each owned by the district that
-- answers it: the district of the campaign of the voucher it is tied to,
-- or the district the resident chose. local_day (Asia/Shanghai) counts
-- the resident's filings per day for the limit. notice_at is when the
-- resident was last given news (an answer, a closing); seen_at when they
-- last read their feedback: news is unread while notice_at > seen_at.
CREATE TABLE feedback (
    id            INTEGER PRIMARY KEY,
    resident_id   INTEGER NOT NULL REFERENCES residents(id),
    district_code TEXT NOT NULL REFERENCES districts(code),
    category      TEXT NOT NULL CHECK (category IN ('merchant', 'voucher', 'suggestion', 'other')),
    body          TEXT NOT NULL,
    voucher_id    INTEGER REFERENCES vouchers(id),
    redemption_id INTEGER REFERENCES redemptions(id),
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    created_at    DATETIME NOT NULL,
    local_day     TEXT NOT NULL,
    answer        TEXT NOT NULL DEFAULT '',
    answered_by   INTEGER REFERENCES officers(id),
    answered_at   DATETIME,
    closed_by     INTEGER REFERENCES officers(id),
    closed_at     DATETIME,
    notice_at     DATETIME,
    seen_at       DATETIME,
    CHECK (redemption_id IS NULL OR voucher_id IS NOT NULL)
);
CREATE INDEX feedback_by_resident ON feedback(resident_id, local_day);
CREATE INDEX feedback_by_district ON feedback(district_code, id);
CREATE INDEX feedback_unread ON feedback(resident_id) WHERE notice_at IS NOT NULL AND (seen_at IS NULL OR seen_at < notice_at);

-- A resident who erases their personal data takes what they wrote with
-- them: the record (category, district, status, dates) stays for the
-- district's statistics, the words do not. Kept beside the table, so
-- every way of erasing a resident does it.
CREATE TRIGGER feedback_erased_with_resident AFTER UPDATE OF erased_at ON residents
WHEN NEW.erased_at IS NOT NULL AND OLD.erased_at IS NULL
BEGIN
    UPDATE feedback SET body = '', answer = '' WHERE resident_id = NEW.id;
END;
