package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// CheckResult is one invariant of the books, verified by recounting rows.
type CheckResult struct {
	Name    string // stable and short, e.g. "issued ≤ released ≤ quantity"
	Pass    bool
	Figures string // what was checked, and the first offenders when it fails
}

// invariant is checked by two queries: total counts what was checked,
// bad selects one line of text per offender.
type invariant struct {
	name  string
	noun  string // of what total counts, plural
	total string
	bad   string
}

// shownOffenders is how many offenders a failing invariant names.
const shownOffenders = 3

// derivedNamed is the definition of one derived table.
func derivedNamed(table string) derivedTable {
	for _, d := range derivedTables {
		if d.table == table {
			return d
		}
	}
	panic("db: no derived table " + table)
}

// recountOf is the definition of one counter of the set.
func (cs counterSet) recountOf(col string) string {
	for _, c := range cs.counters {
		if c.col == col {
			return c.recount
		}
	}
	panic("db: no counter " + cs.table + "." + col)
}

// invariants lists what `voucherd check` verifies, in the order it prints
// them; on PostgreSQL also that each tier's stock buckets hold its
// remaining stock (hotrows.go).
func invariants(postgres bool) []invariant {
	subsidy := campaignCounters.recountOf("subsidy_fen")
	issued := tierCounters.recountOf("claimed_count")
	limit := func(name, noun, table, join, limitCol, who string) invariant {
		d := derivedNamed(table)
		return invariant{name: name, noun: noun,
			total: `SELECT COUNT(*) FROM (` + d.recount + `) AS x`,
			bad: `SELECT ` + who + ` || ': ' || x.claimed || ' vouchers, limit ' || c.` + limitCol + `
				FROM (` + d.recount + `) x ` + join + ` WHERE x.claimed > c.` + limitCol}
	}
	out := []invariant{
		{name: "issued ≤ released ≤ quantity", noun: "tiers",
			total: `SELECT COUNT(*) FROM tiers`,
			bad: `SELECT 'tier ' || id || ': issued ' || issued || ', released ' || released || ', quantity ' || quantity
				FROM (SELECT id, released, quantity, ` + issued + ` AS issued FROM tiers) AS t WHERE issued > released OR released > quantity`},
		// Committed is what the campaign may still have to pay at most:
		// every voucher it planned, less those that expired unredeemed.
		{name: "committed ≤ budget", noun: "campaigns",
			total: `SELECT COUNT(*) FROM campaigns`,
			bad: `SELECT 'campaign ' || id || ': committed ' || committed || ' fen, budget ' || budget_fen || ' fen'
				FROM (SELECT c.id, c.budget_fen, (SELECT COALESCE(SUM(t.face_fen * (t.quantity - t.expired)), 0) FROM tiers t
					WHERE t.campaign_id = c.id) AS committed FROM campaigns c) AS c WHERE committed > budget_fen`},
		// Live vouchers are those that may still be spent: claimed, not
		// redeemed, not counted as expired.
		{name: "live face + subsidy ≤ budget", noun: "campaigns",
			total: `SELECT COUNT(*) FROM campaigns`,
			bad: `SELECT 'campaign ' || id || ': live ' || live_fen || ' fen + subsidy ' || spent_fen || ' fen, budget ' || budget_fen || ' fen'
				FROM (SELECT id, budget_fen, ` + subsidy + ` AS spent_fen,
					(SELECT COALESCE(SUM(t.face_fen), 0) FROM vouchers v JOIN tiers t ON t.id = v.tier_id
						WHERE v.campaign_id = campaigns.id AND v.status = 'claimed' AND v.lapsed_at IS NULL) AS live_fen
					FROM campaigns) AS c WHERE live_fen + spent_fen > budget_fen`},
		{name: "subsidy ≤ budget", noun: "campaigns",
			total: `SELECT COUNT(*) FROM campaigns`,
			bad: `SELECT 'campaign ' || id || ': subsidy ' || spent_fen || ' fen, budget ' || budget_fen || ' fen'
				FROM (SELECT id, budget_fen, ` + subsidy + ` AS spent_fen FROM campaigns) AS c WHERE spent_fen > budget_fen`},
		// An expired voucher's face value was freed from the budget: it
		// must never have been spent, now or after it lapsed.
		{name: "no voucher both lapsed and redeemed", noun: "lapsed vouchers",
			total: `SELECT COUNT(*) FROM vouchers WHERE lapsed_at IS NOT NULL`,
			// Read from the redemptions' side: only live ones have an index by voucher.
			bad: `SELECT 'voucher ' || v.id || ': lapsed at ' || v.lapsed_at || ', ' || v.status FROM vouchers v
				WHERE v.lapsed_at IS NOT NULL AND v.status = 'redeemed'
				UNION
				SELECT 'voucher ' || v.id || ': lapsed at ' || v.lapsed_at || ', redeemed at ' || r.created_at
				FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id
				WHERE v.lapsed_at IS NOT NULL AND (r.reversed_at IS NULL OR r.created_at >= v.lapsed_at)`},
		{name: "at most one live redemption per voucher", noun: "vouchers",
			total: `SELECT COUNT(*) FROM vouchers`,
			bad: `SELECT 'voucher ' || voucher_id || ': ' || COUNT(*) || ' live redemptions' FROM redemptions
				WHERE reversed_at IS NULL GROUP BY voucher_id HAVING COUNT(*) > 1`},
		{name: "voucher status matches its redemptions", noun: "vouchers",
			total: `SELECT COUNT(*) FROM vouchers`,
			bad: `SELECT 'voucher ' || id || ': ' || status || ' with ' || live || ' live redemptions'
				FROM (SELECT v.id, v.status, (SELECT COUNT(*) FROM redemptions r WHERE r.voucher_id = v.id AND r.reversed_at IS NULL) AS live
					FROM vouchers v) AS v WHERE (status = 'redeemed' AND live <> 1) OR (status <> 'redeemed' AND live <> 0)`},
		limit("no resident over the campaign limit", "residents × campaigns", "resident_claims", `JOIN campaigns c ON c.id = x.campaign_id`, "per_resident_limit",
			`'resident ' || x.resident_id || ' in campaign ' || x.campaign_id`),
		limit("no resident over the day limit", "residents × days", "resident_day_claims", `JOIN campaigns c ON c.id = x.campaign_id`, "per_day_limit",
			`'resident ' || x.resident_id || ' in campaign ' || x.campaign_id || ' on ' || x.day`),
		limit("no resident over the tier limit", "residents × tiers", "resident_tier_claims",
			`JOIN tiers t ON t.id = x.tier_id JOIN campaigns c ON c.id = t.campaign_id`, "per_tier_limit",
			`'resident ' || x.resident_id || ' in tier ' || x.tier_id`),
	}
	for _, cs := range counterSets {
		out = append(out, cs.invariant())
	}
	if postgres {
		out = append(out, invariant{name: "stock buckets = tier remaining", noun: "tiers",
			total: `SELECT COUNT(*) FROM tiers`,
			bad: `SELECT 'tier ' || t.id || ': remaining ' || t.remaining || ', buckets ' || COALESCE(b.stock, 0) || ' in ' || COALESCE(b.n, 0)
				FROM counted(tiers) AS t LEFT JOIN (SELECT tier_id, SUM(remaining) AS stock, COUNT(*) AS n FROM tier_stock GROUP BY tier_id) b
				ON b.tier_id = t.id WHERE COALESCE(b.stock, 0) <> t.remaining OR COALESCE(b.n, 0) <> ` + strconv.Itoa(stockBuckets)})
	}
	for _, d := range derivedTables {
		out = append(out, d.invariant())
	}
	// A paid statement froze what one funding district owed a merchant for
	// a day: a redemption of that day's campaigns of that district written
	// after the payment changes what is owed, and a reversal after it is
	// a clawback, so the rows now plus the day's clawbacks are what was paid.
	out = append(out, invariant{name: "paid statements = their day's redemptions", noun: "paid statements",
		total: `SELECT COUNT(*) FROM settlements`,
		bad: `SELECT 'merchant ' || p.merchant_id || ' on ' || p.day || ' from the fund of ' || p.funding_district || ': paid ' ||
				p.redemptions || ' redemptions, ' ||
				p.reversals || ' reversals, ' || p.subsidy_fen || ' fen subsidy, ' || p.consumption_fen || ' fen consumption; the rows and clawbacks now say ' ||
				(COALESCE(d.redemptions, 0) + COALESCE(k.n, 0)) || ', ' || (COALESCE(d.reversals, 0) - COALESCE(k.n, 0)) || ', ' ||
				(COALESCE(d.subsidy_fen, 0) + COALESCE(k.subsidy_fen, 0)) || ', ' || (COALESCE(d.consumption_fen, 0) + COALESCE(k.consumption_fen, 0))
			FROM settlements p LEFT JOIN (` + dayFigures + ` WHERE r.merchant_id IN (SELECT merchant_id FROM settlements)
				GROUP BY r.merchant_id, day, funding_district) d
				ON d.merchant_id = p.merchant_id AND d.day = p.day AND d.funding_district = p.funding_district
			LEFT JOIN (SELECT merchant_id, day, funding_district, COUNT(*) AS n, SUM(subsidy_fen) AS subsidy_fen, SUM(consumption_fen) AS consumption_fen
				FROM clawbacks GROUP BY merchant_id, day, funding_district) k
				ON k.merchant_id = p.merchant_id AND k.day = p.day AND k.funding_district = p.funding_district
			WHERE COALESCE(d.redemptions, 0) + COALESCE(k.n, 0) <> p.redemptions OR COALESCE(d.reversals, 0) - COALESCE(k.n, 0) <> p.reversals
				OR COALESCE(d.subsidy_fen, 0) + COALESCE(k.subsidy_fen, 0) <> p.subsidy_fen
				OR COALESCE(d.consumption_fen, 0) + COALESCE(k.consumption_fen, 0) <> p.consumption_fen`})
	// A clawback is a reversed redemption of a paid day, for its subsidy.
	out = append(out, invariant{name: "clawbacks = reversals of paid days", noun: "clawbacks",
		total: `SELECT COUNT(*) FROM clawbacks`,
		bad: `SELECT 'clawback ' || k.id || ' of redemption ' || k.redemption_id || ': ' || k.subsidy_fen || ' fen from merchant ' || k.merchant_id ||
				' for ' || k.day || ' does not match its redemption or paid statement'
			FROM clawbacks k JOIN redemptions r ON r.id = k.redemption_id JOIN campaigns c ON c.id = r.campaign_id
			WHERE r.reversed_at IS NULL OR r.merchant_id <> k.merchant_id OR r.discount_fen <> k.subsidy_fen OR r.bill_fen <> k.consumption_fen
				OR local_day(r.created_at) <> k.day OR c.district_code <> k.funding_district
				OR NOT EXISTS (SELECT 1 FROM settlements p WHERE p.merchant_id = k.merchant_id AND p.day = k.day AND p.funding_district = k.funding_district)`})
	// A payment batch's figures are what the bank file pays: the sums of
	// the statements it froze, less the clawbacks it netted, which are
	// its own merchants' from its own fund and no more than each of them is
	// paid in it (no transfer is negative).
	out = append(out, invariant{name: "payment batches = their statements", noun: "payment batches",
		total: `SELECT COUNT(*) FROM payment_batches`,
		bad: `SELECT 'batch ' || b.id || ': ' || b.statements || ' statements of ' || b.merchants || ' merchants, ' || b.subsidy_fen ||
				' fen less ' || b.clawback_fen || ' fen clawed back; its statements say ' || COALESCE(p.n, 0) || ', ' || COALESCE(p.merchants, 0) || ', ' ||
				COALESCE(p.fen, 0) || ' and its clawbacks ' || COALESCE(k.fen, 0)
			FROM payment_batches b LEFT JOIN (SELECT batch_id, COUNT(*) AS n, COUNT(DISTINCT merchant_id) AS merchants, SUM(subsidy_fen) AS fen,
				MIN(funding_district) AS lo, MAX(funding_district) AS hi FROM settlements WHERE batch_id IS NOT NULL GROUP BY batch_id) p ON p.batch_id = b.id
			LEFT JOIN (SELECT batch_id, SUM(subsidy_fen) AS fen FROM clawbacks WHERE batch_id IS NOT NULL GROUP BY batch_id) k ON k.batch_id = b.id
			WHERE COALESCE(p.n, 0) <> b.statements OR COALESCE(p.merchants, 0) <> b.merchants OR COALESCE(p.fen, 0) <> b.subsidy_fen
				OR p.lo <> b.funding_district OR p.hi <> b.funding_district OR COALESCE(k.fen, 0) <> b.clawback_fen
				OR EXISTS (SELECT 1 FROM clawbacks x WHERE x.batch_id = b.id AND (x.funding_district <> b.funding_district
					OR NOT EXISTS (SELECT 1 FROM settlements y WHERE y.batch_id = b.id AND y.merchant_id = x.merchant_id)))
				OR EXISTS (SELECT 1 FROM (SELECT merchant_id, SUM(subsidy_fen) AS fen FROM clawbacks WHERE batch_id = b.id GROUP BY merchant_id) x
					WHERE x.fen > (SELECT SUM(y.subsidy_fen) FROM settlements y WHERE y.batch_id = b.id AND y.merchant_id = x.merchant_id))`})
	return out
}

// invariant compares every counter of the set with its recount.
func (cs counterSet) invariant() invariant {
	bad := make([]string, len(cs.counters))
	for i, c := range cs.counters {
		bad[i] = `SELECT '` + cs.noun + ` ' || id || ': ` + c.col + ` ' || ` + c.col + ` || ', recount ' || (` + c.recount + `)
			FROM counted(` + cs.table + `) AS ` + cs.table + ` WHERE ` + c.col + ` <> (` + c.recount + `)`
	}
	return invariant{name: cs.noun + " counters = recount", noun: cs.table,
		total: `SELECT COUNT(*) FROM ` + cs.table, bad: strings.Join(bad, "\nUNION ALL\n")}
}

// invariant compares the table with its recount both ways: a row stored
// and not recounted is as wrong as a recounted row missing.
func (d derivedTable) invariant() invariant {
	cols := append(append([]string{}, d.keys...), d.values...)
	show := make([]string, len(cols))
	for i, c := range cols {
		show[i] = `'` + c + `=' || ` + c
	}
	line := strings.Join(show, ` || ' ' || `)
	with := `WITH raw_events AS (` + rawEvents("IS NOT NULL") + `), recount (` + d.cols() + `) AS (` + d.recount + `),
		stored AS (` + d.stored() + `) `
	return invariant{name: d.table + " = recount", noun: "rows",
		total: with + `SELECT COUNT(*) FROM stored`,
		bad: with + `SELECT 'stored ' || ` + line + ` FROM (SELECT * FROM stored EXCEPT SELECT * FROM recount) AS s
			UNION ALL
			SELECT 'recount ' || ` + line + ` FROM (SELECT * FROM recount EXCEPT SELECT * FROM stored) AS r`}
}

func (inv invariant) check(ctx context.Context, q *Tx) (CheckResult, error) {
	res := CheckResult{Name: inv.name}
	var total, bad int64
	if err := q.GetContext(ctx, &total, inv.total); err != nil {
		return res, fmt.Errorf("db: check %q: %w", inv.name, err)
	}
	if err := q.GetContext(ctx, &bad, `SELECT COUNT(*) FROM (`+inv.bad+`) AS offending`); err != nil {
		return res, fmt.Errorf("db: check %q: %w", inv.name, err)
	}
	if bad == 0 {
		res.Pass, res.Figures = true, fmt.Sprintf("%d %s", total, inv.noun)
		return res, nil
	}
	var first []string
	if err := q.SelectContext(ctx, &first, `SELECT * FROM (`+inv.bad+`) AS offending LIMIT ?`, shownOffenders); err != nil {
		return res, fmt.Errorf("db: check %q: %w", inv.name, err)
	}
	res.Figures = fmt.Sprintf("%d %s, %d offending: %s", total, inv.noun, bad, strings.Join(first, "; "))
	if bad > int64(len(first)) {
		res.Figures += "; …"
	}
	return res, nil
}

// Check verifies every invariant of the books and returns one result per
// invariant; an error means the check itself could not run. The recounts
// read one snapshot (one read transaction), so a server writing beside it
// cannot make a counter and its rows disagree for a moment.
func (s *Store) Check(ctx context.Context) ([]CheckResult, error) {
	var opts *sql.TxOptions
	if s.Postgres() {
		// Servers write beside the check: one snapshot for every recount.
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.r.BeginTxx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("db: check: %w", err)
	}
	defer tx.Rollback()
	var out []CheckResult
	for _, inv := range invariants(s.Postgres()) {
		res, err := inv.check(ctx, tx)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	// The audit chain is append-only and read in one query of its own.
	rep, err := s.VerifyAudit(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: check audit chain: %w", err)
	}
	audit := CheckResult{Name: "audit chain intact", Pass: rep.Break == nil, Figures: fmt.Sprintf("%d rows, head %s", rep.Rows, rep.Head)}
	if b := rep.Break; b != nil {
		audit.Figures = fmt.Sprintf("broken at row %d (%s), %d rows intact before it", b.ID, b.Reason, rep.Rows)
	}
	return append(out, audit), nil
}

// OpenReadOnly opens an existing database for reading only, as `voucherd
// check` does beside a running server: WAL lets its reads go on while the
// server writes, and it can change nothing. The database must carry every
// migration this build knows, or the recounts would read another schema.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "deferred")
	rdb, err := sqlx.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	rdb.SetMaxOpenConns(2)
	r := newDB(rdb, sqliteDialect)
	// Writes through this store fail: the file is opened read-only.
	s := &Store{w: r, r: r, now: func() time.Time { return time.Now().UTC() }}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		r.Close()
		return nil, err
	}
	var applied []string
	if err := r.SelectContext(ctx, &applied, `SELECT name FROM schema_migrations`); err != nil {
		r.Close()
		return nil, fmt.Errorf("db: %s: %w", path, err)
	}
	have := map[string]bool{}
	for _, n := range applied {
		have[n] = true
	}
	for _, n := range names {
		if !have[filepath.Base(n)] {
			r.Close()
			return nil, fmt.Errorf("db: %s lacks migration %s: run voucherd migrate first", path, filepath.Base(n))
		}
	}
	return s, nil
}
