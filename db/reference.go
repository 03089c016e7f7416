package db

import (
	"context"
	"time"

	"cqvoucher/app"
)

// Districts lists the districts, the city first, then by code.
func (s *Store) Districts(ctx context.Context) ([]app.District, error) {
	var ds []app.District
	err := s.r.SelectContext(ctx, &ds, `SELECT code, name_zh, name_en, kind FROM districts
		ORDER BY kind <> 'city', code`)
	return ds, err
}

// Categories lists the consumption categories by code.
func (s *Store) Categories(ctx context.Context) ([]app.Category, error) {
	var cs []app.Category
	err := s.r.SelectContext(ctx, &cs, `SELECT code, name_zh, name_en FROM categories ORDER BY rowid`)
	return cs, err
}

// UpsertReference writes districts and categories, updating names of
// existing codes, in one transaction.
func (s *Store) UpsertReference(ctx context.Context, ds []app.District, cs []app.Category) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		for _, d := range ds {
			if _, err := tx.ExecContext(ctx, `INSERT INTO districts (code, name_zh, name_en, kind) VALUES (?, ?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, kind = excluded.kind`,
				d.Code, d.NameZH, d.NameEN, d.Kind); err != nil {
				return err
			}
		}
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO categories (code, name_zh, name_en) VALUES (?, ?, ?)
				ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en`,
				c.Code, c.NameZH, c.NameEN); err != nil {
				return err
			}
		}
		return nil
	})
}

// SeedLoaded reports whether a named seed set was loaded before.
func (s *Store) SeedLoaded(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.r.GetContext(ctx, &n, `SELECT COUNT(*) FROM seed_runs WHERE name = ?`, name)
	return n > 0, err
}

// MarkSeedLoaded records that a named seed set was loaded.
func (s *Store) MarkSeedLoaded(ctx context.Context, name string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO seed_runs (name, loaded_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, at.UTC())
	return err
}
