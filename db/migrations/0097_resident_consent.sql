-- A resident's consent to the 用户协议 and 隐私政策: when they last agreed
-- and to which version of the texts. Kept with the account (neither is a
-- secret, and neither identifies anyone without the account); NULL means
-- no consent is on record (an account from before consent was recorded),
-- which the product treats as consent to be asked for.
ALTER TABLE residents ADD COLUMN consented_at TIMESTAMP;
ALTER TABLE residents ADD COLUMN consent_version TEXT CHECK (consent_version IS NULL OR length(consent_version) BETWEEN 1 AND 64);
