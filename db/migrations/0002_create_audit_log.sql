-- The officers' audit log: append-only, each row chained to the one
-- before by a SHA-256 over its content and the previous row's hash, so
-- `voucherd audit verify` finds the first row that was altered or removed.

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            DATETIME NOT NULL,
    actor_id      INTEGER NOT NULL,          -- officer id (0 = the system)
    actor         TEXT NOT NULL,             -- officer username at the time
    action        TEXT NOT NULL,             -- e.g. campaign.create, campaign.approve
    entity        TEXT NOT NULL,             -- e.g. campaign, officer
    entity_id     INTEGER NOT NULL,
    district_code TEXT NOT NULL,             -- whose record it is, for filtering by district
    before_json   TEXT NOT NULL,
    after_json    TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_district ON audit_log(district_code, id);

-- Nothing in the product updates or deletes audit rows; the triggers make
-- a mistake (or a careless script) fail loudly instead of rewriting history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
