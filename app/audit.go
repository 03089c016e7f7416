package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// AuditEntry is one row of the officers' audit log: who did what to which
// record, when, and the record before and after.
type AuditEntry struct {
	ID         int64     `db:"id" json:"id"`
	At         time.Time `db:"at" json:"at"`
	ActorID    int64     `db:"actor_id" json:"actor_id"`
	Actor      string    `db:"actor" json:"actor"`
	Action     string    `db:"action" json:"action"`
	Entity     string    `db:"entity" json:"entity"`
	EntityID   int64     `db:"entity_id" json:"entity_id"`
	District   string    `db:"district_code" json:"district"`
	BeforeJSON string    `db:"before_json" json:"before"`
	AfterJSON  string    `db:"after_json" json:"after"`
	PrevHash   string    `db:"prev_hash" json:"prev_hash"`
	Hash       string    `db:"hash" json:"hash"`
	HashAlg    string    `db:"hash_alg" json:"hash_alg"` // AuditSHA256 or AuditSM3; each row says how it is chained
}

// The hash functions an audit row can be chained with. Each row records its
// own, so a log that crosses a change of cryptography mode verifies whole.
const (
	AuditSHA256 = "sha256" // the default, and every row written before rows recorded theirs
	AuditSM3    = "sm3"    // the commercial cryptography mode (GB/T 32905)
)

// newAuditHash is the hash function of an algorithm name (nil if unknown).
func newAuditHash(alg string) hash.Hash {
	switch alg {
	case AuditSHA256, "":
		return sha256.New()
	case AuditSM3:
		return sm3.New()
	}
	return nil
}

// KnownAuditHash says whether rows may be chained with alg.
func KnownAuditHash(alg string) bool { return alg != "" && newAuditHash(alg) != nil }

// GenesisHash is the previous hash of the first row.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ComputeHash is the row's link in the chain: the row's hash function
// (HashAlg) over HashInput, in hex; "" for an unknown function, which
// matches no stored hash.
func (e AuditEntry) ComputeHash() string {
	h := newAuditHash(e.HashAlg)
	if h == nil {
		return ""
	}
	h.Write(e.HashInput())
	return hex.EncodeToString(h.Sum(nil))
}

// HashInput is what a row's hash covers: the previous hash and every field
// of the row, each length-prefixed so that no two different rows can
// serialise alike. Rows chained with SM3 begin with the algorithm's name
// as well, so a row's hash also vouches for how it was computed; SHA-256
// rows keep the form they had before rows named their algorithm.
func (e AuditEntry) HashInput() []byte {
	fields := []string{
		e.PrevHash, strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.ActorID, 10),
		e.Actor, e.Action, e.Entity, strconv.FormatInt(e.EntityID, 10), e.District, e.BeforeJSON, e.AfterJSON,
	}
	if e.HashAlg != AuditSHA256 && e.HashAlg != "" {
		fields = append([]string{e.HashAlg}, fields...)
	}
	var b []byte
	for _, f := range fields {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	return b
}

// AuditBreak says where the chain is broken; nil when intact.
type AuditBreak struct {
	ID     int64  // the first row that does not link
	Reason string // altered, missing_before, reordered
}

// AuditReport is the result of walking the whole chain.
type AuditReport struct {
	Rows  int64
	Head  string // hash of the last row: record it elsewhere to detect removal of the newest rows
	Break *AuditBreak
}

// VerifyAuditChain checks rows in id order; next returns false when done.
func VerifyAuditChain(next func() (AuditEntry, bool, error)) (AuditReport, error) {
	rep := AuditReport{Head: GenesisHash}
	var lastID int64
	for {
		e, ok, err := next()
		if err != nil {
			return rep, err
		}
		if !ok {
			return rep, nil
		}
		switch {
		case e.ID != lastID+1 || e.PrevHash != rep.Head:
			rep.Break = &AuditBreak{ID: e.ID, Reason: "missing_before"}
			if e.ID == lastID+1 {
				rep.Break.Reason = "altered_before"
			}
		case e.ComputeHash() != e.Hash:
			rep.Break = &AuditBreak{ID: e.ID, Reason: "altered"}
		}
		if rep.Break != nil {
			return rep, nil
		}
		rep.Rows++
		rep.Head = e.Hash
		lastID = e.ID
	}
}

// auditOf builds an entry for an officer's action; before and after are
// snapshots of the record (nil for none).
func (a *App) auditOf(by Officer, action, entity string, id int64, district string, before, after any) AuditEntry {
	return AuditEntry{
		At: a.now().Truncate(time.Microsecond), ActorID: by.ID, Actor: by.Username, Action: action,
		Entity: entity, EntityID: id, District: district, BeforeJSON: snapshot(before), AfterJSON: snapshot(after),
	}
}

func snapshot(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":"unserialisable"}`
	}
	return string(b)
}

// AuditFilter selects audit rows for the audit page.
type AuditFilter struct {
	District string // "" = all (city-wide roles only)
	Actor    string
	Action   string // prefix, e.g. "campaign." (the API's filter)
	ActionIs string // exactly this action (the page's filter): "campaign.approve" is not "campaign.approve_budget"
	Entity   string
	EntityID int64
	From, To time.Time // zero = open
	BeforeID int64     // for paging: rows with id < BeforeID; 0 = newest
	Limit    int
	// ActorRoles and NotActorRoles select rows by the role of the acting
	// account (set by auditScope, never by the caller): no role reads its
	// own audit trail.
	ActorRoles    []string
	NotActorRoles []string
}

// AuditLog lists one page of the audit rows an officer may read, newest first.
func (a *App) AuditLog(ctx context.Context, by Officer, f AuditFilter) ([]AuditEntry, error) {
	f, err := auditScope(by, f)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return a.store.AuditLog(ctx, f)
}

// AuditNames are the names of whom and what a page of audit rows refers
// to, so the page can say "张三 approved 渝味360碗" rather than ids.
type AuditNames struct {
	Officers  map[int64]Officer // the acting officers and the officer records
	Campaigns map[int64]string
	Merchants map[int64]string
}

// AuditNamesOf names the officers, campaigns and merchants the rows refer
// to. The rows are already those the reader may read (AuditLog): naming
// what they refer to shows nothing more.
func (a *App) AuditNamesOf(ctx context.Context, rows []AuditEntry) (AuditNames, error) {
	names := AuditNames{Officers: map[int64]Officer{}}
	officers, ids := map[int64]bool{}, map[string][]int64{}
	for _, r := range rows {
		officers[r.ActorID] = true
		if r.Entity == "officer" {
			officers[r.EntityID] = true
		}
		ids[r.Entity] = append(ids[r.Entity], r.EntityID)
	}
	all, err := a.store.Officers(ctx, "")
	if err != nil {
		return names, err
	}
	for _, o := range all {
		if officers[o.ID] {
			names.Officers[o.ID] = o
		}
	}
	if names.Campaigns, err = a.store.AuditSubjectNames(ctx, "campaign", ids["campaign"]); err != nil {
		return names, err
	}
	names.Merchants, err = a.store.AuditSubjectNames(ctx, "merchant", ids["merchant"])
	return names, err
}

// AuditActors lists the officers whose rows the officer may read in the
// audit log (auditScope's roles, and the district's own and city-wide
// officers for a district's reader), for the log's filter by officer.
func (a *App) AuditActors(ctx context.Context, by Officer) ([]Officer, error) {
	f, err := auditScope(by, AuditFilter{})
	if err != nil {
		return nil, err
	}
	all, err := a.store.Officers(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []Officer
	for _, o := range all {
		switch {
		case len(f.ActorRoles) > 0 && !containsString(f.ActorRoles, o.Role),
			containsString(f.NotActorRoles, o.Role),
			f.District != "" && !o.Sees(f.District):
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// auditExportPage is how many rows EachAuditEntry reads at a time.
const auditExportPage = 500

// EachAuditEntry calls fn with every audit row of the filter that the
// officer may read, newest first: all of them, for an export, which it
// records in the log. It reads the
// log a page at a time, each page the rows below the last id seen, so it
// holds one page in memory however long the log is, no read stays open
// while fn writes to a slow client, and rows appended meanwhile (higher
// ids) are not mixed in.
func (a *App) EachAuditEntry(ctx context.Context, by Officer, f AuditFilter, fn func(AuditEntry) error) error {
	f, err := auditScope(by, f)
	if err != nil {
		return err
	}
	// The log holds officers' names and what they did: taking it away is
	// itself recorded, with the filter, before the first row leaves.
	if err := a.RecordExport(ctx, by, ActionExportAuditLog, f); err != nil {
		return err
	}
	f.Limit = auditExportPage
	for {
		rows, err := a.store.AuditLog(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < f.Limit {
			return nil
		}
		f.BeforeID = rows[len(rows)-1].ID
	}
}

// auditScope narrows a filter to what the officer may read: a district
// officer or auditor reads their own district only.
//
// Separation of duties (三员分立): the audit administrator reads every
// row except those of audit administrators, which the security
// administrator reads (and nothing else); the system administrator reads
// none. Officers of the business roles read their scope's rows except
// the administrators' (account and security work is the audit
// administrator's to review). The log is kept: no product path deletes
// or updates a row (triggers refuse both), and its retention is at least
// 180 days (docs/security.md).
func auditScope(by Officer, f AuditFilter) (AuditFilter, error) {
	f.ActorRoles, f.NotActorRoles = nil, nil
	f.Actor = strings.TrimSpace(f.Actor)
	admins := []string{RoleSystemAdmin, RoleSecurityAdmin, RoleAuditAdmin}
	switch by.Role {
	case RoleAuditAdmin:
		f.NotActorRoles = []string{RoleAuditAdmin}
	case RoleSecurityAdmin:
		f.ActorRoles = []string{RoleAuditAdmin}
	case RoleSystemAdmin:
		return f, Forbidden("audit_admin_only")
	default:
		f.NotActorRoles = admins
		if !by.SeesAllDistricts() {
			f.District = by.District
		}
	}
	return f, nil
}

// VerifyAudit walks the whole chain.
func (a *App) VerifyAudit(ctx context.Context) (AuditReport, error) { return a.store.VerifyAudit(ctx) }

// SystemAudit is an entry for what the product itself does (loading the
// demo data set), with actor "system".
func SystemAudit(at time.Time, action, entity, district string, after any) AuditEntry {
	return AuditEntry{At: at.UTC().Truncate(time.Microsecond), Actor: "system", Action: action, Entity: entity,
		District: district, AfterJSON: snapshot(after)}
}
