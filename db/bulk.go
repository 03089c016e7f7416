package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

// Bulk loading of generated data: a season for the dashboards (seeds) and
// a signed-in crowd for the load generator (cmd/loadgen), tens of
// thousands to millions of rows. They are written in ONE write
// transaction, many rows per INSERT through statements prepared once: a
// transaction per row would wait for an fsync each and take minutes, and
// a statement per row costs more than its row (a RETURNING read in a
// transaction even three times as much: database/sql watches each one's
// context in a goroutine of its own).
//
// The rows are stored as given, past the domain's rules: the claim,
// redemption and reversal transactions' counters and rollups are not kept
// (RebuildDerived recounts them), and residents' numbers are kept in clear
// in the legacy column until SealResidentPhones seals them (voucherd's
// start-up does).

// rowsPerInsert is how many rows one INSERT writes: at most 2,750
// parameters (11 columns), far below SQLite's 32,766 and PostgreSQL's
// 65,535; more rows gained nothing measurable.
const rowsPerInsert = 250

// Loader writes generated rows inside Load's transaction.
type Loader struct {
	ctx    context.Context // the writer's: statements are never interrupted (see txAt)
	caller context.Context // Load's caller's: checked before each statement
	tx     *Tx
	stmts  map[stmtShape]*sqlx.Stmt
}

// stmtShape names a prepared multi-row INSERT: its text without the
// VALUES, and its number of rows.
type stmtShape struct {
	head string
	rows int
}

// Load runs fn with a Loader in one write transaction, committed only if
// fn returns nil. It holds the writer as long as fn runs. When ctx ends,
// the next statement fails with ctx's error, and nothing is written.
func (s *Store) Load(ctx context.Context, fn func(*Loader) error) error {
	return s.tx(ctx, func(wctx context.Context, tx *Tx) error {
		l := &Loader{ctx: wctx, caller: ctx, tx: tx, stmts: map[stmtShape]*sqlx.Stmt{}}
		defer func() {
			for _, st := range l.stmts {
				st.Close()
			}
		}()
		return fn(l)
	})
}

// table is one kind of row the Loader writes.
type table struct {
	insert    string // INSERT INTO t (columns)
	cols      int
	returning string // "" or " RETURNING id, <a unique column>"
}

// stmt is the INSERT of rows rows into t, prepared once per Load.
func (l *Loader) stmt(t table, rows int) (*sqlx.Stmt, error) {
	if err := l.caller.Err(); err != nil {
		return nil, err
	}
	shape := stmtShape{t.insert, rows}
	if st, ok := l.stmts[shape]; ok {
		return st, nil
	}
	row := "(?" + strings.Repeat(", ?", t.cols-1) + ")"
	st, err := l.tx.PreparexContext(l.ctx, t.insert+" VALUES "+row+strings.Repeat(", "+row, rows-1)+t.returning)
	if err != nil {
		return nil, err
	}
	l.stmts[shape] = st
	return st, nil
}

// insert writes n rows into t, rowsPerInsert at a time; row appends row
// i's arguments. With t.returning, got reads each returned row. Neither
// SQLite nor PostgreSQL promises RETURNING's order, so got must tell the
// rows apart by what it reads (a unique column beside the id).
func (l *Loader) insert(t table, n int, row func(args []any, i int) []any, got func(*sqlx.Rows) error) error {
	args := make([]any, 0, rowsPerInsert*t.cols)
	for from := 0; from < n; from += rowsPerInsert {
		to := min(n, from+rowsPerInsert)
		st, err := l.stmt(t, to-from)
		if err != nil {
			return err
		}
		args = args[:0]
		for i := from; i < to; i++ {
			args = row(args, i)
		}
		if t.returning == "" {
			if _, err := st.ExecContext(l.ctx, args...); err != nil {
				return err
			}
			continue
		}
		rows, err := st.QueryxContext(l.ctx, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := got(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// idsByKey returns the ids the rows of a RETURNING id, key came back
// with, in the order of keys.
func idsByKey(keys []string, insert func(got func(*sqlx.Rows) error) error) ([]int64, error) {
	at := make(map[string]int, len(keys))
	for i, k := range keys {
		at[k] = i
	}
	ids := make([]int64, len(keys))
	err := insert(func(rows *sqlx.Rows) error {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		i, ok := at[key]
		if !ok {
			return fmt.Errorf("returned row %q was not inserted", key)
		}
		ids[i] = id
		return nil
	})
	return ids, err
}

// LoadResident is a generated resident.
type LoadResident struct {
	Phone     string // a distinct 11-digit mainland number, stored in clear until sealed
	CreatedAt time.Time
	// ConsentedAt and ConsentVersion record the consent sign-in would
	// have recorded; nil and "" for none.
	ConsentedAt    *time.Time
	ConsentVersion string
}

var residentTable = table{insert: `INSERT INTO residents (phone, created_at, consented_at, consent_version)`, cols: 4,
	returning: ` RETURNING id, phone`}

// Residents adds residents and returns their ids, in the order of rs.
func (l *Loader) Residents(rs []LoadResident) ([]int64, error) {
	phones := make([]string, len(rs))
	for i, r := range rs {
		phones[i] = r.Phone
	}
	ids, err := idsByKey(phones, func(got func(*sqlx.Rows) error) error {
		return l.insert(residentTable, len(rs), func(args []any, i int) []any {
			r := rs[i]
			var version any
			if r.ConsentVersion != "" {
				version = r.ConsentVersion
			}
			return append(args, r.Phone, r.CreatedAt.UTC(), utcPtr(r.ConsentedAt), version)
		}, got)
	})
	if err != nil {
		return nil, fmt.Errorf("db: load residents: %w", err)
	}
	return ids, nil
}

var sessionTable = table{insert: sessionInsert, cols: 6}

// Sessions adds sessions, as CreateSession does.
func (l *Loader) Sessions(ss []app.Session) error {
	err := l.insert(sessionTable, len(ss), func(args []any, i int) []any { return sessionArgs(args, ss[i]) }, nil)
	if err != nil {
		return fmt.Errorf("db: load sessions: %w", err)
	}
	return nil
}

var cashierTable = table{insert: cashierInsert, cols: 6, returning: ` RETURNING id, username`}

// Cashier adds a cashier (a staff cashier unless c.Role says otherwise)
// and sets c.ID.
func (l *Loader) Cashier(c *app.Cashier) error {
	ids, err := idsByKey([]string{c.Username}, func(got func(*sqlx.Rows) error) error {
		return l.insert(cashierTable, 1, func(args []any, _ int) []any { return cashierArgs(args, c) }, got)
	})
	if err != nil {
		return fmt.Errorf("db: load cashier %s: %w", c.Username, err)
	}
	c.ID = ids[0]
	return nil
}

// LoadVoucher is a generated voucher: claimed, or redeemed at RedeemedAt.
// Its token is stored as given (a real one, or a placeholder where nothing
// will verify it).
type LoadVoucher struct {
	Code                           string // distinct
	CampaignID, TierID, ResidentID int64
	Slot                           int64 // the resident's n-th voucher of the campaign, from 1
	Token                          string
	ClaimedAt, ExpiresAt           time.Time
	RedeemedAt                     *time.Time
}

var voucherTable = table{insert: `INSERT INTO vouchers (code, campaign_id, tier_id, resident_id, slot, status, token, claimed_at, expires_at, redeemed_at)`,
	cols: 10, returning: ` RETURNING id, code`}

// Vouchers adds vouchers and returns their ids, in the order of vs.
func (l *Loader) Vouchers(vs []LoadVoucher) ([]int64, error) {
	codes := make([]string, len(vs))
	for i, v := range vs {
		codes[i] = v.Code
	}
	ids, err := idsByKey(codes, func(got func(*sqlx.Rows) error) error {
		return l.insert(voucherTable, len(vs), func(args []any, i int) []any {
			v := vs[i]
			status := app.VoucherClaimed
			if v.RedeemedAt != nil {
				status = app.VoucherRedeemed
			}
			return append(args, v.Code, v.CampaignID, v.TierID, v.ResidentID, v.Slot, status, v.Token,
				v.ClaimedAt.UTC(), v.ExpiresAt.UTC(), utcPtr(v.RedeemedAt))
		}, got)
	})
	if err != nil {
		return nil, fmt.Errorf("db: load vouchers: %w", err)
	}
	return ids, nil
}

// LoadRedemption is a generated redemption of a loaded voucher; a
// reversed one has ReversedAt and ReversedBy (its voucher is loaded as
// claimed, as a reversal leaves it).
type LoadRedemption struct {
	VoucherID, CampaignID, MerchantID, CashierID int64
	BillFen, DiscountFen                         app.Fen
	Key                                          string // the idempotency key
	CreatedAt                                    time.Time
	ReversedAt                                   *time.Time
	ReversedBy                                   int64 // a cashier, with ReversedAt
	WaitS                                        int64 // app.ClaimToRedeemSeconds of the claim and CreatedAt
}

var redemptionTable = table{insert: `INSERT INTO redemptions (voucher_id, campaign_id, merchant_id, cashier_id, bill_fen, discount_fen,
	idempotency_key, created_at, reversed_at, reversed_by, wait_s)`, cols: 11}

// Redemptions adds redemptions.
func (l *Loader) Redemptions(rs []LoadRedemption) error {
	err := l.insert(redemptionTable, len(rs), func(args []any, i int) []any {
		r := rs[i]
		var reversedBy any
		if r.ReversedAt != nil {
			reversedBy = r.ReversedBy
		}
		return append(args, r.VoucherID, r.CampaignID, r.MerchantID, r.CashierID, r.BillFen, r.DiscountFen,
			r.Key, r.CreatedAt.UTC(), utcPtr(r.ReversedAt), reversedBy, r.WaitS)
	}, nil)
	if err != nil {
		return fmt.Errorf("db: load redemptions: %w", err)
	}
	return nil
}
