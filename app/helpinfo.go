package app

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DistrictContact is who residents of a district call about its vouchers:
// the organising office, its hotline and its office hours, as the
// district's officers keep them.
type DistrictContact struct {
	District    string    `db:"district_code" json:"district"`
	OfficeName  string    `db:"office_name" json:"office_name"`
	Hotline     string    `db:"hotline" json:"hotline"`
	OfficeHours string    `db:"office_hours" json:"office_hours"`
	Address     string    `db:"address" json:"address,omitempty"`
	UpdatedAt   time.Time `db:"updated_at" json:"-"`
	UpdatedBy   *int64    `db:"updated_by" json:"-"`
}

// Dial is the hotline as a tel: link dials it: the digits (and a leading
// +) of the number, without separators or an extension, which the caller
// is told to ask for.
func (c DistrictContact) Dial() string {
	var b strings.Builder
	for i, r := range c.Hotline {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == '转' || r == 'e' || r == 'x':
			return b.String()
		}
	}
	return b.String()
}

// HelpStore is what help pages and residents' feedback need from storage.
type HelpStore interface {
	// Contacts lists every district's contact, in district code order.
	Contacts(ctx context.Context) ([]DistrictContact, error)
	// SaveContact writes a district's contact and its audit entry in one transaction.
	SaveContact(ctx context.Context, c DistrictContact, audit AuditEntry) error
	FeedbackStore
}

// ContactInput is a district's contact as an officer typed it.
type ContactInput struct {
	OfficeName  string `form:"office_name" json:"office_name"`
	Hotline     string `form:"hotline" json:"hotline"`
	OfficeHours string `form:"office_hours" json:"office_hours"`
	Address     string `form:"address" json:"address"`
}

// Limits of a contact's fields, in characters.
const (
	maxOfficeName  = 60
	maxOfficeHours = 100
	maxAddress     = 120
)

// hotlineRE is what a hotline may look like as residents dial it: digits
// with the separators people write ("023-6386 1234", "(023)63861234",
// "+86 23 6386 1234", "12345"), and an extension ("转 2", "ext 2").
var hotlineRE = regexp.MustCompile(`^\+?[0-9(（][0-9 ()（）-]*[0-9](\s*(转|ext\.?|x)\s*[0-9]{1,6})?$`)

// ValidHotline reports whether s is a dialable number: the shape above,
// with 3 (a service number such as 12345 has 5) to 20 digits.
func ValidHotline(s string) bool {
	if !hotlineRE.MatchString(s) {
		return false
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits >= 3 && digits <= 20
}

// Contacts lists the contacts of every district that has one.
func (a *App) Contacts(ctx context.Context) ([]DistrictContact, error) {
	return a.store.Contacts(ctx)
}

// ContactOf is whom a resident calls about a district's campaign: the
// district's own office, else the city's (a district that has not yet
// written its contact still leaves the resident a number to call). The
// second result is false when neither has one.
func ContactOf(contacts []DistrictContact, district string) (DistrictContact, bool) {
	var city *DistrictContact
	for i := range contacts {
		switch contacts[i].District {
		case district:
			return contacts[i], true
		case CityCode:
			city = &contacts[i]
		}
	}
	if city != nil {
		return *city, true
	}
	return DistrictContact{}, false
}

// EditableContacts lists the districts whose contact the officer may
// change (their own; every district for a city-wide officer), each with
// its contact as stored (empty fields where none is).
func (a *App) EditableContacts(ctx context.Context, by Officer) ([]District, map[string]DistrictContact, error) {
	if by.Role == RoleAuditor || !by.Sees(by.District) {
		return nil, nil, Forbidden("read_only")
	}
	ds, err := a.store.Districts(ctx)
	if err != nil {
		return nil, nil, err
	}
	var mine []District
	for _, d := range ds {
		if by.CanChange(d.Code) {
			mine = append(mine, d)
		}
	}
	cs, err := a.store.Contacts(ctx)
	if err != nil {
		return nil, nil, err
	}
	byCode := make(map[string]DistrictContact, len(cs))
	for _, c := range cs {
		byCode[c.District] = c
	}
	return mine, byCode, nil
}

// SaveContact sets a district's contact (an officer of that district, or
// a city-wide officer), audited with the contact before and after.
// Each field is one line of plain text; the hotline must be dialable.
func (a *App) SaveContact(ctx context.Context, by Officer, district string, in ContactInput) (DistrictContact, error) {
	c := DistrictContact{District: district, OfficeName: strings.TrimSpace(in.OfficeName), Hotline: strings.TrimSpace(in.Hotline),
		OfficeHours: strings.TrimSpace(in.OfficeHours), Address: strings.TrimSpace(in.Address), UpdatedAt: a.now()}
	if !by.Sees(district) {
		return c, NotFound("district_not_found")
	}
	if !by.CanChange(district) {
		return c, Forbidden("read_only")
	}
	ds, err := a.store.Districts(ctx)
	if err != nil {
		return c, err
	}
	if !containsDistrict(ds, district) {
		return c, NotFound("district_not_found")
	}
	fe := FieldErrors{}
	oneLine := func(field, v string, required bool, limit int) {
		switch {
		case v == "" && required:
			fe.Add(field, "required")
		case utf8.RuneCountInString(v) > limit:
			fe.Add(field, "too_long")
		case strings.ContainsAny(v, "\r\n\t"):
			fe.Add(field, "one_line")
		}
	}
	oneLine("office_name", c.OfficeName, true, maxOfficeName)
	oneLine("office_hours", c.OfficeHours, true, maxOfficeHours)
	oneLine("address", c.Address, false, maxAddress)
	if c.Hotline == "" {
		fe.Add("hotline", "required")
	} else if !ValidHotline(c.Hotline) {
		fe.Add("hotline", "hotline_format")
	}
	if err := fe.Err(); err != nil {
		return c, err
	}
	cs, err := a.store.Contacts(ctx)
	if err != nil {
		return c, err
	}
	var before any // nil: the district had no contact yet
	for _, old := range cs {
		if old.District == district {
			before = old
		}
	}
	id := by.ID
	c.UpdatedBy = &id
	code, _ := strconv.ParseInt(district, 10, 64)
	return c, a.store.SaveContact(ctx, c, a.auditOf(by, ActionContactUpdate, "district_contact", code, district, before, c))
}

// RuleLine is one rule of a campaign in plain words: a message key of the
// help page ("help.rule_<Key>") with its parameters. The lines are
// generated from the campaign's stored settings, so the help page says
// what the claim and the till will do, never what someone once wrote.
type RuleLine struct {
	Key    string
	Params map[string]string
}

// CampaignRules says a campaign's rules, in the order a resident meets
// them: what the vouchers are worth, when and how they are released, how
// many one may claim, how long they stay valid, where they are accepted
// and what the till checks. Amounts are in yuan, times in Chongqing's.
func CampaignRules(c Campaign, now time.Time) []RuleLine {
	var out []RuleLine
	add := func(key string, kv ...string) {
		p := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		out = append(out, RuleLine{Key: key, Params: p})
	}
	for _, t := range c.Tiers {
		n := strconv.FormatInt(t.Quantity, 10)
		if t.ThresholdFen > 0 {
			add("tier_threshold", "x", t.ThresholdFen.Short(), "y", t.FaceFen.Short(), "n", n)
		} else {
			add("tier_fixed", "y", t.FaceFen.Short(), "n", n)
		}
	}
	add("claim_window", "from", FormatLocal(c.ClaimStartsAt), "until", FormatLocal(c.ClaimEndsAt))
	if c.ReleaseMode == ReleaseDrops && len(c.Drops) > 0 {
		if first, last, at, ok := dailyDrops(c.Drops); ok {
			add("drops_daily", "from", first, "until", last, "at", at)
		} else {
			add("drops_listed", "times", listedDrops(c.Drops))
		}
		if next := c.NextDrop(now); next != nil {
			add("drops_next", "at", FormatLocal(next.OpensAt))
		}
		if c.DropRollover {
			add("drops_rollover")
		} else {
			add("drops_lapse")
		}
	} else {
		add("release_once")
	}
	add("limit_person", "n", strconv.Itoa(c.PerResidentLimit))
	if c.PerDayLimit > 0 {
		add("limit_day", "n", strconv.Itoa(c.PerDayLimit))
	}
	if c.PerTierLimit > 0 {
		add("limit_tier", "n", strconv.Itoa(c.PerTierLimit))
	}
	if c.RequireRealName {
		add("real_name")
	}
	if c.ValidityMode == ValidityFixed && c.ValidFrom != nil && c.ValidUntil != nil {
		add("valid_fixed", "from", LocalDay(*c.ValidFrom), "until", FormatUntil(*c.ValidUntil))
	} else if c.ValidDays <= 1 {
		add("valid_same_day")
	} else {
		add("valid_days", "n", strconv.Itoa(c.ValidDays))
	}
	if c.District == CityCode {
		add("where_city")
	} else {
		add("where_district", "district", c.District)
	}
	add("categories", "categories", strings.Join(c.Categories, ","))
	add("one_per_bill")
	if c.MaxBillFen > 0 {
		add("max_bill", "max", c.MaxBillFen.Grouped())
	}
	if c.RecycleExpired {
		add("recycle")
	}
	add("refund")
	return out
}

// dailyDrops reports drops that open at one time of day on consecutive
// days ("每天 10:00, 11月25日至12月1日"), with the first and last day.
func dailyDrops(drops []Drop) (first, last, at string, ok bool) {
	times := make([]time.Time, 0, len(drops))
	seen := map[string]bool{}
	for _, d := range drops {
		day := LocalDay(d.OpensAt)
		if seen[day] {
			continue // several tiers share one drop time
		}
		seen[day] = true
		times = append(times, d.OpensAt.In(Shanghai))
	}
	if len(times) < 2 {
		return "", "", "", false
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	clock := times[0].Format("15:04")
	for i, t := range times {
		if t.Format("15:04") != clock || (i > 0 && LocalDay(times[i-1].AddDate(0, 0, 1)) != LocalDay(t)) {
			return "", "", "", false
		}
	}
	return LocalDay(times[0]), LocalDay(times[len(times)-1]), clock, true
}

// maxListedDrops bounds the drop times written out in full; a longer
// schedule is shown by its first ones and the next one.
const maxListedDrops = 6

// listedDrops writes the distinct drop times, earliest first.
func listedDrops(drops []Drop) string {
	var times []time.Time
	seen := map[time.Time]bool{}
	for _, d := range drops {
		if !seen[d.OpensAt] {
			seen[d.OpensAt] = true
			times = append(times, d.OpensAt)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	var parts []string
	for i, t := range times {
		if i == maxListedDrops {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, FormatLocal(t))
	}
	return strings.Join(parts, "、")
}
