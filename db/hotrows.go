package db

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cqvoucher/app"
)

// The hot rows of a drop, on PostgreSQL.
//
// With many writers a row that every claim updates is a queue: each claim
// holds the row's lock from its UPDATE until its COMMIT has reached the
// disk, so the claims of one drop would run one after the other, each a
// whole transaction long, whatever the number of connections and
// processes. A claim used to update three kinds of such rows: its tier's
// stock, its campaign's counters, and the hour's and tier's rollup rows.
// Here none remains:
//
//   - A tier's stock is split across stockBuckets rows of tier_stock. A
//     claim takes one unit from the first bucket with stock that no other
//     transaction holds (FOR UPDATE SKIP LOCKED); only when every bucket
//     with stock is held does it wait for one. Stock never goes below zero
//     (a bucket's CHECK, and the guard re-read on the locked row), and a
//     claim is told "sold out" only when no bucket had stock once it held
//     what it waited for.
//   - Counters and rollups are written as rows of their own in
//     counter_deltas, insert-only, and one process at a time folds them
//     into their rows (FoldCounters, under an advisory lock). Every read
//     of a counted table goes through counted(table), which adds the rows
//     not yet folded: what a reader sees is what committed, folded or not.
//
// The tier row's remaining and claimed_count are counters like the others:
// the stock a claim decides by is the buckets', and the tier's remaining
// as read through counted(tiers) equals their sum (voucherd check says so).
// A redemption still updates its campaign's row at once: the budget guard
// (subsidy_fen + discount ≤ budget) must decide on one row.
//
// SQLite has one writer: a hot row costs it nothing, and it keeps the
// plain counters (summed per batch, counters.go).

// stockBuckets is the number of rows a tier's stock is split across on
// PostgreSQL: more than the claims one process runs at once (its
// connections, 16 by default), so that a few processes' claims rarely find
// every bucket held.
const stockBuckets = 32

// takeStock takes one unit of a tier's stock for a claim, or answers
// sold_out.
func takeStock(ctx context.Context, tx *Tx, tierID, campaignID int64) error {
	if !tx.d.postgres {
		return guarded(tx.ExecContext(ctx, `UPDATE tiers SET remaining = remaining - 1, claimed_count = claimed_count + 1
			WHERE id = ? AND campaign_id = ? AND remaining > 0`, tierID, campaignID))("sold_out")
	}
	// First a bucket no one holds; if every bucket with stock is held,
	// wait for one (the lock re-reads the row: a bucket emptied meanwhile
	// is passed over for the next).
	for _, wait := range []string{" SKIP LOCKED", ""} {
		res, err := tx.ExecContext(ctx, `UPDATE tier_stock SET remaining = remaining - 1
			WHERE tier_id = ?1 AND bucket = (SELECT bucket FROM tier_stock WHERE tier_id = ?1 AND remaining > 0
				ORDER BY bucket LIMIT 1 FOR UPDATE`+wait+`)`, tierID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			if err != nil {
				return err
			}
			return addCounter(ctx, tx, tierStock, tierID, nil, -1, 1)
		}
	}
	return app.Conflict("sold_out")
}

// setStock makes a tier's buckets hold n in all, on PostgreSQL: a new
// tier's stock, a tier whose stock a drop released or lapsed, the tiers a
// rebuild recounted (tierFilter selects them, with args). The caller holds
// every bucket it sets (or the tier is new).
func setStock(ctx context.Context, tx *Tx, total, tierFilter string, args ...any) error {
	if !tx.d.postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tier_stock (tier_id, bucket, remaining)
		SELECT t.id, b, (`+total+`) / `+strconv.Itoa(stockBuckets)+` + CASE WHEN b < (`+total+`) % `+strconv.Itoa(stockBuckets)+` THEN 1 ELSE 0 END
		FROM tiers t CROSS JOIN generate_series(0, `+strconv.Itoa(stockBuckets-1)+`) AS b WHERE `+tierFilter+`
		ON CONFLICT (tier_id, bucket) DO UPDATE SET remaining = excluded.remaining`, args...)
	return err
}

// addStock adds n units to a tier's stock, spread over its buckets, on
// PostgreSQL (SQLite's caller adds them to the tier row).
func addStock(ctx context.Context, tx *Tx, tierID, n int64) error {
	if !tx.d.postgres || n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE tier_stock SET remaining = remaining + CAST(?2 AS bigint) / `+strconv.Itoa(stockBuckets)+`
		+ CASE WHEN bucket < CAST(?2 AS bigint) % `+strconv.Itoa(stockBuckets)+` THEN 1 ELSE 0 END WHERE tier_id = ?1`, tierID, n)
	return err
}

// lockStock holds every bucket of a tier until the transaction ends and
// answers their sum: no claim of the tier is then under way, and each of
// the transaction's later statements reads every claim of it that
// committed. On SQLite it answers the tier row's remaining.
func lockStock(ctx context.Context, tx *Tx, tierID int64) (int64, error) {
	var n int64
	q := `SELECT remaining FROM tiers WHERE id = ?`
	if tx.d.postgres {
		// An aggregate cannot lock; the sum is taken of the locked rows.
		q = `SELECT COALESCE(SUM(remaining), 0) FROM (SELECT remaining FROM tier_stock WHERE tier_id = ? FOR UPDATE) AS b`
	}
	err := tx.GetContext(ctx, &n, q, tierID)
	return n, err
}

// flushDeltas writes a transaction's counter sums, on PostgreSQL, as rows
// of counter_deltas: one INSERT for them all.
func flushDeltas(ctx context.Context, tx *Tx, b *batchCounters) error {
	if len(b.order) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO counter_deltas (counter, k1, k2, n1, n2, n3, n4, n5, n6) VALUES `)
	args := make([]any, 0, 9*len(b.order))
	for i, row := range b.order {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		var k2 any
		switch k := row.k2.(type) {
		case int64:
			k2 = strconv.FormatInt(k, 10)
		case string:
			k2 = k
		}
		args = append(args, row.stmt.name, row.k1, k2)
		for _, n := range b.sums[row] {
			args = append(args, n)
		}
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("db: counter deltas: %w", err)
	}
	return nil
}

// FoldBatch bounds the deltas one fold takes: its transaction stays short.
const FoldBatch = 20000

// foldCountersJob is the advisory lock of the fold (see onlyOneAtATime).
const foldCountersJob = 7_205_103

// FoldCounters folds the counter deltas committed so far into their rows,
// up to FoldBatch of them, and answers how many it folded: 0 on SQLite,
// and when another process is folding. Readers see the same figures
// before and after (counted); the fold only keeps counter_deltas short.
func (s *Store) FoldCounters(ctx context.Context) (int, error) {
	if !s.Postgres() {
		return 0, nil
	}
	var folded int
	err := s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		folded = 0
		if ok, err := s.onlyOneAtATime(ctx, tx, foldCountersJob); err != nil || !ok {
			return err
		}
		rows, err := tx.QueryxContext(ctx, `DELETE FROM counter_deltas WHERE id IN (SELECT id FROM counter_deltas ORDER BY id LIMIT ?)
			RETURNING counter, k1, k2, n1, n2, n3, n4, n5, n6`, FoldBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		var sums batchCounters
		var sc stepCounters
		for rows.Next() {
			var name string
			var k1 int64
			var k2 *string
			var n [6]int64
			if err := rows.Scan(&name, &k1, &k2, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5]); err != nil {
				return err
			}
			stmt := counterNamed[name]
			if stmt == nil {
				return fmt.Errorf("db: counter delta of unknown counter %q", name)
			}
			a := counterAdd{stmt: stmt, k1: k1, n: n}
			if k2 != nil {
				a.k2 = *k2
				if strings.HasSuffix(stmt.keys[1], "_id") {
					id, err := strconv.ParseInt(*k2, 10, 64)
					if err != nil {
						return fmt.Errorf("db: counter delta %s key %q: %w", name, *k2, err)
					}
					a.k2 = id
				}
			}
			sc.adds = append(sc.adds, a)
			folded++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		sums.keep(&sc)
		// Rows in one fixed order (counterStmts', then by key): the order
		// a redemption takes the tier's and then the campaign's row.
		sort.SliceStable(sums.order, func(i, j int) bool {
			a, b := sums.order[i], sums.order[j]
			if a.stmt.order != b.stmt.order {
				return a.stmt.order < b.stmt.order
			}
			if a.k1.(int64) != b.k1.(int64) {
				return a.k1.(int64) < b.k1.(int64)
			}
			return fmt.Sprint(a.k2) < fmt.Sprint(b.k2)
		})
		for _, row := range sums.order {
			if err := execCounter(ctx, tx, row, sums.sums[row]); err != nil {
				return err
			}
		}
		return nil
	})
	return folded, err
}

var counterNamed = func() map[string]*counterStmt {
	m := map[string]*counterStmt{}
	for _, c := range counterStmts {
		m[c.name] = c
	}
	return m
}()

// counted(table) in a statement reads the table's rows as committed: on
// SQLite the table itself, on PostgreSQL the table with the counter deltas
// not yet folded added (countedTables builds the subquery). Write it with
// an alias: FROM counted(tiers) AS tiers.
var countedCall = regexp.MustCompile(`counted\((\w+)\)`)

// countedTables builds, for each table a counter adds to, the subquery
// counted(table) expands to on PostgreSQL, from the table's columns as the
// server lists them.
func countedTables(ctx context.Context, db *DB) (map[string]string, error) {
	out := map[string]string{}
	byTable := map[string][]*counterStmt{}
	var tables []string
	for _, c := range counterStmts {
		if byTable[c.table] == nil {
			tables = append(tables, c.table)
		}
		byTable[c.table] = append(byTable[c.table], c)
	}
	for _, table := range tables {
		var cols []string
		if err := db.SelectContext(ctx, &cols, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table); err != nil {
			return nil, err
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("db: counted table %s has no columns", table)
		}
		sub, err := countedSubquery(table, cols, byTable[table])
		if err != nil {
			return nil, err
		}
		out[table] = sub
	}
	return out, nil
}

func countedSubquery(table string, cols []string, stmts []*counterStmt) (string, error) {
	keys := stmts[0].keys
	// Each counted column's pending sum: the figure each statement adds to it.
	adds := map[string][]string{}
	var names []string
	for _, st := range stmts {
		names = append(names, "'"+st.name+"'")
		for i, c := range st.cols {
			adds[c] = append(adds[c], "WHEN '"+st.name+"' THEN n"+strconv.Itoa(i+1))
		}
	}
	pending := func(c string) string { return "SUM(CASE counter " + strings.Join(adds[c], " ") + " ELSE 0 END)" }
	deltas := ` FROM counter_deltas WHERE counter IN (` + strings.Join(names, ", ") + `)`
	if keys[1] == "" {
		// A row keyed by its id exists before anything counts in it: the
		// row, with the sums of its deltas added. A filter on the row's
		// columns reaches the table's indexes.
		var sel, sums []string
		for _, c := range cols {
			if adds[c] != nil {
				sel = append(sel, "t."+c+" + COALESCE(p."+c+", 0) AS "+c)
				sums = append(sums, pending(c)+" AS "+c)
			} else {
				sel = append(sel, "t."+c)
			}
		}
		return `(SELECT ` + strings.Join(sel, ", ") + ` FROM ` + table + ` t LEFT JOIN (SELECT k1 AS ` + keys[0] + `, ` +
			strings.Join(sums, ", ") + deltas + ` GROUP BY k1) p ON p.` + keys[0] + ` = t.` + keys[0] + `)`, nil
	}
	// A rollup row is made by its first figures, and is nothing but its
	// keys and figures: the rows and the deltas, summed by key (a filter on
	// the keys is pushed into both).
	k2 := "k2"
	if strings.HasSuffix(keys[1], "_id") {
		k2 = "CAST(k2 AS bigint)"
	}
	var stored, fromDeltas, sums []string
	for _, c := range cols {
		switch {
		case c == keys[0] || c == keys[1]:
			stored = append(stored, c)
			sums = append(sums, c)
		case adds[c] != nil:
			stored = append(stored, c)
			sums = append(sums, "SUM("+c+") AS "+c)
		default:
			return "", fmt.Errorf("db: rollup %s has column %s that no counter adds to", table, c)
		}
	}
	for _, c := range cols {
		switch c {
		case keys[0]:
			fromDeltas = append(fromDeltas, "k1")
		case keys[1]:
			fromDeltas = append(fromDeltas, k2)
		default:
			fromDeltas = append(fromDeltas, pending(c))
		}
	}
	return `(SELECT ` + strings.Join(sums, ", ") + ` FROM (SELECT ` + strings.Join(stored, ", ") + ` FROM ` + table +
		` UNION ALL SELECT ` + strings.Join(fromDeltas, ", ") + deltas + ` GROUP BY k1, k2) AS r GROUP BY ` + keys[0] + `, ` + keys[1] + `)`, nil
}
