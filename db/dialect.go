package db

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// One store, two databases.
//
// Every statement of the store is written once, with ? placeholders and
// SQL that SQLite and PostgreSQL both read the same way (COALESCE, ON
// CONFLICT, RETURNING, CASE). The few places where they differ (a local
// day or hour from a stored time, SQLite's PRAGMAs) ask the dialect for
// their fragment. DB and Tx are the only way the store reaches a database:
// they rewrite the placeholders for PostgreSQL ($1, $2, … and ?N as $N),
// so no statement can reach PostgreSQL unconverted, and each offers only
// the methods the store uses.

// dialect says which database the store runs on.
type dialect struct {
	postgres bool
	counted  map[string]string // PostgreSQL: counted(table) as a subquery (hotrows.go)
	rebound  sync.Map          // statement as written → as this database reads it
	kept     atomic.Int64      // entries in rebound
}

var sqliteDialect = &dialect{}

// Statements write what the two databases spell differently as one of
// these functions, which q expands:
//
//	local_day(t)   the Asia/Shanghai day of a stored time, text "2006-01-02"
//	local_hour(t)  its hour, text "2006-01-02 15"
//	least(a, b)    the smaller of two values (SQLite's two-argument MIN)
//	counted(t)     table t's rows with what counters added, folded or not (hotrows.go)
//
// and SQLite's rowid, which keeps districts and categories in the order
// they were inserted, is their seq column on PostgreSQL.
//
// Shanghai has kept UTC+8 without daylight saving since 1991, so SQLite's
// fixed '+8 hours' is exact for every time the product stores.
var (
	localDayCall  = regexp.MustCompile(`local_day\(([^()]+)\)`)
	localHourCall = regexp.MustCompile(`local_hour\(([^()]+)\)`)
	rowidWord     = regexp.MustCompile(`\browid\b`)
)

func (d *dialect) expand(query string) string {
	if !strings.Contains(query, "local_") && !strings.Contains(query, "least(") && !strings.Contains(query, "rowid") &&
		!strings.Contains(query, "counted(") {
		return query
	}
	if d.postgres {
		query = countedCall.ReplaceAllStringFunc(query, func(call string) string {
			table := countedCall.FindStringSubmatch(call)[1]
			if sub, ok := d.counted[table]; ok {
				return sub
			}
			return table
		})
		query = rowidWord.ReplaceAllString(query, "seq")
		query = localDayCall.ReplaceAllString(query, `to_char(($1) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')`)
		return localHourCall.ReplaceAllString(query, `to_char(($1) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24')`)
	}
	query = countedCall.ReplaceAllString(query, "$1")
	query = localDayCall.ReplaceAllString(query, `date($1, '+8 hours')`)
	query = localHourCall.ReplaceAllString(query, `strftime('%Y-%m-%d %H', $1, '+8 hours')`)
	return strings.ReplaceAll(query, "least(", "MIN(")
}

// args are a statement's arguments as this database takes them: the
// store's 0/1 flags are integer columns in both (SQL compares them with
// 0 and 1), and PostgreSQL, unlike SQLite, does not take a Go bool for an
// integer.
func (d *dialect) args(a []any) []any {
	if !d.postgres {
		return a
	}
	var out []any // a copy, made at the first bool: the caller's slice stays as it was
	for i, v := range a {
		if b, ok := v.(bool); ok {
			if out == nil {
				out = append([]any(nil), a...)
			}
			out[i] = boolInt(b)
		}
	}
	if out == nil {
		return a
	}
	return out
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// maxKept bounds the statements kept rewritten: statements are constants,
// but a list expanded to its length (sqlx.In) makes one per length.
const maxKept = 4096

// q is query as this database reads it.
func (d *dialect) q(query string) string {
	if v, ok := d.rebound.Load(query); ok {
		return v.(string)
	}
	out := d.expand(query)
	if d.postgres {
		out = dollarPlaceholders(out)
	}
	if d.kept.Load() < maxKept {
		if _, loaded := d.rebound.LoadOrStore(query, out); !loaded {
			d.kept.Add(1)
		}
	}
	return out
}

// dollarPlaceholders turns ? into $1, $2, … in order and ?N into $N,
// leaving quoted text and identifiers alone.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			b.WriteByte(c)
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// statements runs the store's statements, written once, on a pool or in
// a transaction (both are sqlx.ExtContext): DB and Tx embed it.
type statements struct {
	ex sqlx.ExtContext
	d  *dialect
}

func (x statements) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, x.ex, dest, x.d.q(query), x.d.args(args)...)
}

func (x statements) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, x.ex, dest, x.d.q(query), x.d.args(args)...)
}

func (x statements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return x.ex.ExecContext(ctx, x.d.q(query), x.d.args(args)...)
}

func (x statements) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	return x.ex.QueryRowxContext(ctx, x.d.q(query), x.d.args(args)...)
}

func (x statements) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	return x.ex.QueryxContext(ctx, x.d.q(query), x.d.args(args)...)
}

// insertID runs an INSERT and returns the id of the row it inserted, by
// RETURNING id (PostgreSQL has no LastInsertId); an INSERT … SELECT that
// inserted nothing answers sql.ErrNoRows.
func (x statements) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := x.QueryRowxContext(ctx, query+` RETURNING id`, args...).Scan(&id)
	return id, err
}

// DB is a pool of connections to the store's database.
type DB struct {
	statements
	db *sqlx.DB
}

func newDB(db *sqlx.DB, d *dialect) *DB { return &DB{statements{db, d}, db} }

func (x *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return x.db.QueryRowContext(ctx, x.d.q(query), x.d.args(args)...)
}

// BeginTxx starts a transaction on one of the pool's connections.
func (x *DB) BeginTxx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	tx, err := x.db.BeginTxx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{statements{tx, x.d}, tx}, nil
}

// Tx is one transaction; its statements are written as for DB.
type Tx struct {
	statements
	tx *sqlx.Tx
}

// Exec runs a statement outside any caller's context (the writer's
// savepoints).
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	return t.tx.Exec(t.d.q(query), t.d.args(args)...)
}

func (t *Tx) Commit() error   { return t.tx.Commit() }
func (t *Tx) Rollback() error { return t.tx.Rollback() }

func (x *DB) PingContext(ctx context.Context) error { return x.db.PingContext(ctx) }
func (x *DB) Close() error                          { return x.db.Close() }

// Connx reserves one connection, for what must run on a single
// connection of its own (SQLite's checkpoints and migrations); its
// statements are passed as written.
func (x *DB) Connx(ctx context.Context) (*sqlx.Conn, error) { return x.db.Connx(ctx) }

// PreparexContext prepares a statement for many executions in the
// transaction (bulk loads).
func (t *Tx) PreparexContext(ctx context.Context, query string) (*sqlx.Stmt, error) {
	return t.tx.PreparexContext(ctx, t.d.q(query))
}
