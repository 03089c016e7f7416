// Package seeds holds the reference data (Chongqing's districts, the
// consumption categories of the city plan) and the demo data set, and loads
// them. Loading is idempotent: running it again seeds nothing twice.
package seeds

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"time"

	"cqvoucher/app"
	"cqvoucher/db"
)

//go:embed districts.csv categories.csv demo.json
var files embed.FS

// City is the row that stands for the whole city (CSV lists only its divisions).
var City = app.District{Code: app.CityCode, NameZH: "重庆市（全市）", NameEN: "Chongqing (city-wide)", Kind: "city"}

func readCSV(name string, columns int) ([][]string, error) {
	body, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = columns
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("seeds: %s: %w", name, err)
	}
	return rows[1:], nil // header
}

// Districts returns the city and its 38 districts and 2 functional zones.
func Districts() ([]app.District, error) {
	rows, err := readCSV("districts.csv", 4)
	if err != nil {
		return nil, err
	}
	ds := []app.District{City}
	for _, r := range rows {
		ds = append(ds, app.District{Code: r[0], NameZH: r[1], NameEN: r[2], Kind: r[3]})
	}
	return ds, nil
}

// Categories returns the consumption categories.
func Categories() ([]app.Category, error) {
	rows, err := readCSV("categories.csv", 3)
	if err != nil {
		return nil, err
	}
	var cs []app.Category
	for _, r := range rows {
		cs = append(cs, app.Category{Code: r[0], NameZH: r[1], NameEN: r[2]})
	}
	return cs, nil
}

// LoadReference writes the reference data (an upsert: safe on every start).
func LoadReference(ctx context.Context, st *db.Store) error {
	ds, err := Districts()
	if err != nil {
		return err
	}
	cs, err := Categories()
	if err != nil {
		return err
	}
	return st.UpsertReference(ctx, ds, cs)
}

// DemoAccount is a merchant's staff account of the demo set.
type DemoAccount struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

// Demo is the demo data set as written in demo.json.
type Demo struct {
	Password string `json:"password"`
	// TOTPSecret is the demo officers' second factor, published with the
	// demo set (it is demo data, like the password): add it to any
	// authenticator app, or compute codes with oathtool --totp -b.
	TOTPSecret string `json:"totp_secret"`
	Officers   []struct {
		Username   string `json:"username"`
		Name       string `json:"name"`
		Role       string `json:"role"`
		District   string `json:"district"`
		CanApprove bool   `json:"can_approve"`
	} `json:"officers"`
	Merchants []struct {
		Name     string      `json:"name"`
		District string      `json:"district"`
		Category string      `json:"category"`
		Address  string      `json:"address"`
		Cashier  DemoAccount `json:"cashier"`
		// Owner is the shop's owner (店主), who also sees its statements and
		// manages its staff and API keys.
		Owner DemoAccount `json:"owner"`
	} `json:"merchants"`
	// Contacts are the demo districts' hotlines and office hours, which
	// the districts' officers then keep on /officer/contacts.
	Contacts []struct {
		District    string `json:"district"`
		OfficeName  string `json:"office_name"`
		Hotline     string `json:"hotline"`
		OfficeHours string `json:"office_hours"`
		Address     string `json:"address"`
	} `json:"contacts"`
	Campaign struct {
		Maker         string            `json:"maker"`
		Approver      string            `json:"approver"`
		Input         app.CampaignInput `json:"input"`
		OpensHoursAgo int               `json:"opens_hours_ago"`
		RunsDays      int               `json:"runs_days"`
	} `json:"campaign"`
}

// ReadDemo parses the demo data set.
func ReadDemo() (Demo, error) {
	var d Demo
	body, err := files.ReadFile("demo.json")
	if err != nil {
		return d, err
	}
	return d, json.Unmarshal(body, &d)
}

// demoSeed names the demo set in seed_runs.
const demoSeed = "demo-v1"

// LoadDemo creates the demo accounts, merchants and one live campaign,
// made by one officer and approved by another through the same rules as
// any campaign. It does nothing if the demo set was loaded before.
func LoadDemo(ctx context.Context, st *db.Store, a *app.App) (Demo, error) {
	d, err := ReadDemo()
	if err != nil {
		return d, err
	}
	// The contacts came after the first demo set: a database loaded with
	// it before gets them too, once (an officer's edit is never undone).
	if err := loadDemoContacts(ctx, st, a, d); err != nil {
		return d, err
	}
	if done, err := st.SeedLoaded(ctx, demoSeed); err != nil || done {
		return d, err
	}
	now := a.Now()
	hash, err := app.HashPassword(d.Password)
	if err != nil {
		return d, err
	}
	officers := map[string]app.Officer{}
	for _, o := range d.Officers {
		off := app.Officer{Username: o.Username, Name: o.Name, PasswordHash: hash, Role: o.Role,
			District: o.District, CanApprove: o.CanApprove, CreatedAt: now}
		audit := app.SystemAudit(now, app.ActionOfficerCreate, "officer", o.District, map[string]any{"username": o.Username, "role": o.Role})
		if err := st.CreateOfficer(ctx, &off, audit); err != nil {
			return d, fmt.Errorf("seeds: officer %s: %w", o.Username, err)
		}
		if err := a.EnrolTOTPDirectly(ctx, off, d.TOTPSecret); err != nil {
			return d, fmt.Errorf("seeds: officer %s second factor: %w", o.Username, err)
		}
		officers[o.Username] = off
	}
	for _, m := range d.Merchants {
		mer := app.Merchant{Name: m.Name, District: m.District, Category: m.Category, Address: m.Address,
			Status: app.MerchantApproved, CreatedAt: now}
		if err := st.CreateMerchant(ctx, &mer); err != nil {
			return d, fmt.Errorf("seeds: merchant %s: %w", m.Name, err)
		}
		for _, acc := range []struct {
			DemoAccount
			role string
		}{{m.Owner, app.CashierOwner}, {m.Cashier, app.CashierStaff}} {
			if acc.Username == "" {
				continue
			}
			c := app.Cashier{MerchantID: mer.ID, Username: acc.Username, Name: acc.Name, PasswordHash: hash, Role: acc.role, CreatedAt: now}
			if err := st.CreateCashier(ctx, &c); err != nil {
				return d, fmt.Errorf("seeds: cashier %s: %w", c.Username, err)
			}
		}
	}
	in := d.Campaign.Input
	in.ClaimStarts = now.Add(-time.Duration(d.Campaign.OpensHoursAgo) * time.Hour).Format(time.RFC3339)
	in.ClaimEnds = now.AddDate(0, 0, d.Campaign.RunsDays).Format(time.RFC3339)
	c, err := a.CreateCampaign(ctx, officers[d.Campaign.Maker], in)
	if err != nil {
		return d, fmt.Errorf("seeds: campaign: %w", err)
	}
	if err := a.SubmitCampaign(ctx, officers[d.Campaign.Maker], c.ID); err != nil {
		return d, fmt.Errorf("seeds: submit: %w", err)
	}
	if err := a.ApproveCampaign(ctx, officers[d.Campaign.Approver], c.ID, "同意。"); err != nil {
		return d, fmt.Errorf("seeds: approve: %w", err)
	}
	return d, st.MarkSeedLoaded(ctx, demoSeed, now)
}

// demoContactsSeed names the demo contacts in seed_runs.
const demoContactsSeed = "demo-contacts-v1"

func loadDemoContacts(ctx context.Context, st *db.Store, a *app.App, d Demo) error {
	if done, err := st.SeedLoaded(ctx, demoContactsSeed); err != nil || done {
		return err
	}
	now := a.Now()
	for _, c := range d.Contacts {
		if !app.ValidHotline(c.Hotline) {
			return fmt.Errorf("seeds: contact of %s: hotline %q", c.District, c.Hotline)
		}
		if err := st.SeedContact(ctx, app.DistrictContact{District: c.District, OfficeName: c.OfficeName, Hotline: c.Hotline,
			OfficeHours: c.OfficeHours, Address: c.Address, UpdatedAt: now}); err != nil {
			return fmt.Errorf("seeds: contact of %s: %w", c.District, err)
		}
	}
	return st.MarkSeedLoaded(ctx, demoContactsSeed, now)
}
