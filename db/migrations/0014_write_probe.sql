-- The health check's probe writes, and deletes in the same transaction,
-- one row here while writes are failing, to find out whether they work
-- again (see db/health.go). The table stays empty.
CREATE TABLE write_probe (
	id INTEGER PRIMARY KEY,
	at DATETIME NOT NULL,
	pad BLOB NOT NULL
);
