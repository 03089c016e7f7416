-- A merchant's contact phone and settlement account are kept sealed, like
-- residents' numbers: voucherd's start-up moves the clear values written
-- before this into the sealed columns and blanks the clear ones
-- (db.SealLegacyPersonalData); nothing writes the clear columns any more.
ALTER TABLE merchants ADD COLUMN contact_phone_sealed BLOB;
ALTER TABLE merchants ADD COLUMN settlement_account_sealed BLOB;
