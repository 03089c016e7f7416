package db

import (
	"context"

	"cqvoucher/app"
)

const contactCols = `district_code, office_name, hotline, office_hours, address, updated_at, updated_by`

// Contacts lists every district's contact, in district code order (the city first).
func (s *Store) Contacts(ctx context.Context) ([]app.DistrictContact, error) {
	var cs []app.DistrictContact
	err := s.r.SelectContext(ctx, &cs, `SELECT `+contactCols+` FROM district_contacts ORDER BY district_code`)
	return cs, err
}

// SaveContact writes a district's contact (insert or replace) and its
// audit entry in one transaction.
func (s *Store) SaveContact(ctx context.Context, c app.DistrictContact, audit app.AuditEntry) error {
	return s.tx(ctx, func(ctx context.Context, tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO district_contacts (`+contactCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (district_code) DO UPDATE SET office_name = excluded.office_name, hotline = excluded.hotline,
			office_hours = excluded.office_hours, address = excluded.address, updated_at = excluded.updated_at,
			updated_by = excluded.updated_by`,
			c.District, c.OfficeName, c.Hotline, c.OfficeHours, c.Address, c.UpdatedAt.UTC(), c.UpdatedBy); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, &audit)
	})
}

// SeedContact writes a district's contact unless it has one: seeds never
// overwrite what an officer wrote.
func (s *Store) SeedContact(ctx context.Context, c app.DistrictContact) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO district_contacts (`+contactCols+`) VALUES (?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (district_code) DO NOTHING`, c.District, c.OfficeName, c.Hotline, c.OfficeHours, c.Address, c.UpdatedAt.UTC())
	return err
}
