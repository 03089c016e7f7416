package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"cqvoucher/app"
)

const auditCols = `id, at, actor_id, actor, action, entity, entity_id, district_code, before_json, after_json, prev_hash, hash, hash_alg`

// appendAudit chains an entry to the log inside the caller's transaction,
// so a change and its record commit together or not at all. No two
// appends may read the same head: on SQLite the writer is one connection;
// on PostgreSQL write steps run at once (in every voucherd sharing the
// server), so an append first locks the log against other appends until
// its transaction ends (reads go on). The row is hashed with the store's
// audit hash (Options.AuditHash), whatever the rows before it used, and
// records which.
func (s *Store) appendAudit(ctx context.Context, tx *Tx, e *app.AuditEntry) error {
	if s.Postgres() {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE audit_log IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("audit append: %w", err)
		}
	}
	var head struct {
		ID   int64  `db:"id"`
		Hash string `db:"hash"`
	}
	err := tx.GetContext(ctx, &head, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		head.Hash = app.GenesisHash
	case err != nil:
		return err
	}
	e.ID, e.PrevHash, e.At, e.HashAlg = head.ID+1, head.Hash, e.At.UTC(), s.auditHash
	e.Hash = e.ComputeHash()
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.At, e.ActorID, e.Actor, e.Action, e.Entity, e.EntityID, e.District, e.BeforeJSON, e.AfterJSON, e.PrevHash, e.Hash, e.HashAlg)
	if err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// AppendAudit records an action that changes nothing else (a sign-in).
func (s *Store) AppendAudit(ctx context.Context, e app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error { return s.appendAudit(ctx, tx, &e) })
}

// AuditLog lists audit rows matching a filter, newest first.
func (s *Store) AuditLog(ctx context.Context, f app.AuditFilter) ([]app.AuditEntry, error) {
	q := `SELECT ` + auditCols + ` FROM audit_log WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.District != "" {
		add("district_code = ?", f.District)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action LIKE ? ESCAPE '\\'", escapeLike(f.Action)+"%")
	}
	if f.ActionIs != "" {
		add("action = ?", f.ActionIs)
	}
	if f.Entity != "" {
		add("entity = ?", f.Entity)
	}
	if f.EntityID > 0 {
		add("entity_id = ?", f.EntityID)
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		add("at < ?", f.To.UTC())
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	// The role of the acting account (actor 0, the product, has none).
	if len(f.ActorRoles) > 0 {
		q += ` AND actor_id IN (SELECT id FROM officers WHERE role IN (?` + strings.Repeat(", ?", len(f.ActorRoles)-1) + `))`
		for _, r := range f.ActorRoles {
			args = append(args, r)
		}
	}
	if len(f.NotActorRoles) > 0 {
		q += ` AND actor_id NOT IN (SELECT id FROM officers WHERE role IN (?` + strings.Repeat(", ?", len(f.NotActorRoles)-1) + `))`
		for _, r := range f.NotActorRoles {
			args = append(args, r)
		}
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	var out []app.AuditEntry
	err := s.r.SelectContext(ctx, &out, q, args...)
	return out, err
}

// auditSubjects is how each kind of audited record is named.
var auditSubjects = map[string]string{
	"campaign": `SELECT id, name FROM campaigns WHERE id IN (?)`,
	"merchant": `SELECT id, name FROM merchants WHERE id IN (?)`,
}

// AuditSubjectNames names the records of one kind that audit rows refer to.
func (s *Store) AuditSubjectNames(ctx context.Context, entity string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	query, ok := auditSubjects[entity]
	if !ok || len(ids) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(query, ids)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := s.r.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

func escapeLike(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// VerifyAudit walks the whole chain in id order, one row at a time, each
// row checked with the hash function it records.
func (s *Store) VerifyAudit(ctx context.Context) (app.AuditReport, error) {
	rows, err := s.r.QueryxContext(ctx, `SELECT `+auditCols+` FROM audit_log ORDER BY id`)
	if err != nil {
		return app.AuditReport{}, err
	}
	defer rows.Close()
	rep, err := app.VerifyAuditChain(func() (app.AuditEntry, bool, error) {
		var e app.AuditEntry
		if !rows.Next() {
			return e, false, rows.Err()
		}
		err := rows.StructScan(&e)
		return e, err == nil, err
	})
	return rep, err
}
