-- Merchants apply online and an officer of their district reviews them;
-- an owner account manages the merchant's cashiers.
ALTER TABLE merchants ADD COLUMN uscc TEXT NOT NULL DEFAULT '';              -- unified social credit code (GB 32100)
ALTER TABLE merchants ADD COLUMN uscc_checksum_ok INTEGER NOT NULL DEFAULT 1 CHECK (uscc_checksum_ok IN (0, 1));
ALTER TABLE merchants ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN settlement_account TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN review_note TEXT NOT NULL DEFAULT '';        -- reason of a rejection or suspension
ALTER TABLE merchants ADD COLUMN reviewed_by INTEGER REFERENCES officers(id);
ALTER TABLE merchants ADD COLUMN reviewed_at DATETIME;
CREATE INDEX merchants_review ON merchants(district_code, status);

ALTER TABLE cashiers ADD COLUMN role TEXT NOT NULL DEFAULT 'cashier' CHECK (role IN ('owner', 'cashier'));
ALTER TABLE cashiers ADD COLUMN disabled_at DATETIME;
