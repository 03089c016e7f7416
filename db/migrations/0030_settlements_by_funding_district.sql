-- A statement is what one district's fund owes one merchant for one day:
-- a 渝中 campaign redeemed at a 江北 merchant (an include, or a city-wide
-- campaign) is paid by 渝中's (or the city's) finance bureau, from its own
-- budget, never by the merchant's district. The key gains the funding
-- district: the district of the campaign the redemptions belong to.
CREATE TABLE settlements_by_fund (
    merchant_id      INTEGER NOT NULL REFERENCES merchants(id),
    day              TEXT NOT NULL,                 -- Asia/Shanghai date
    funding_district TEXT NOT NULL REFERENCES districts(code),
    redemptions      INTEGER NOT NULL CHECK (redemptions >= 0),
    reversals        INTEGER NOT NULL CHECK (reversals >= 0),
    subsidy_fen      INTEGER NOT NULL CHECK (subsidy_fen >= 0),
    consumption_fen  INTEGER NOT NULL CHECK (consumption_fen >= 0),
    paid_at          DATETIME NOT NULL,
    paid_by          INTEGER NOT NULL REFERENCES officers(id),
    PRIMARY KEY (merchant_id, day, funding_district)
);

-- A day paid before this change was paid as one sum; the paid-day guard
-- kept its redemptions frozen since, so splitting the sum by funding
-- district from those same rows gives parts that add up to what was paid.
INSERT INTO settlements_by_fund (merchant_id, day, funding_district, redemptions, reversals, subsidy_fen, consumption_fen, paid_at, paid_by)
SELECT r.merchant_id, date(r.created_at, '+8 hours') AS day, c.district_code,
    SUM(CASE WHEN r.reversed_at IS NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.reversed_at IS NULL THEN 0 ELSE 1 END),
    SUM(CASE WHEN r.reversed_at IS NULL THEN r.discount_fen ELSE 0 END),
    SUM(CASE WHEN r.reversed_at IS NULL THEN r.bill_fen ELSE 0 END),
    p.paid_at, p.paid_by
FROM redemptions r JOIN campaigns c ON c.id = r.campaign_id
JOIN settlements p ON p.merchant_id = r.merchant_id AND p.day = date(r.created_at, '+8 hours')
GROUP BY r.merchant_id, day, c.district_code;

DROP TABLE settlements;
ALTER TABLE settlements_by_fund RENAME TO settlements;
