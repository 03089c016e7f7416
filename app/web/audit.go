package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// The officers' audit log. The page says each row as a sentence (who did
// what to which record, with an approver's opinion or a reason) and what
// changed, field by field, in the reader's language; the API and the
// CSV/XLSX export keep the rows as stored, snapshots in JSON, because
// those are the record an auditor takes away and checks.

// auditFilter reads the audit log's filters from the query string.
func auditFilter(c echo.Context) app.AuditFilter {
	f := app.AuditFilter{
		Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Entity: c.QueryParam("entity"),
		District: c.QueryParam("district"),
	}
	f.EntityID, _ = strconv.ParseInt(c.QueryParam("entity_id"), 10, 64)
	f.BeforeID, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if t, err := time.ParseInLocation("2006-01-02", c.QueryParam("from"), app.Shanghai); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", c.QueryParam("to"), app.Shanghai); err == nil {
		f.To = t.AddDate(0, 0, 1) // the whole "to" day
	}
	return f
}

// auditPage browses the audit log with filters, newest first, 50 a page;
// ?format=csv|xlsx exports every row of the filter, not one page: an
// export is the record an auditor takes away. The page's filter offers
// whole actions, and one of them matches that action only
// ("campaign.approve" is not "campaign.approve_budget"); anything else,
// such as "campaign.", stays a prefix, as on the API.
func (s *Server) auditPage(c echo.Context) error {
	f := auditFilter(c)
	if app.IsAuditAction(f.Action) {
		f.ActionIs, f.Action = f.Action, ""
	}
	ctx := c.Request().Context()
	by := officerOf(c)
	if c.QueryParam("format") != "" {
		f.BeforeID = 0 // ?before= pages the screen; the export link of an older page still means the whole filter
		return sendTable(c, table{name: "审计日志",
			cols: []column{{"编号", colCount}, {"时间", colTime}, {"操作人", colText}, {"操作", colText}, {"对象", colText}, {"对象编号", colCount},
				{"区县", colIdent}, {"修改前", colText}, {"修改后", colText}, {"前一条哈希", colIdent}, {"本条哈希", colIdent}},
			each: func(emit func(...any) error) error {
				return s.app.EachAuditEntry(ctx, by, f, func(r app.AuditEntry) error {
					return emit(r.ID, r.At, r.Actor, r.Action, r.Entity, r.EntityID, r.District, r.BeforeJSON, r.AfterJSON, r.PrevHash, r.Hash)
				})
			}})
	}
	rows, err := s.app.AuditLog(ctx, by, f)
	if err != nil {
		return err
	}
	names, err := s.app.AuditNamesOf(ctx, rows)
	if err != nil {
		return err
	}
	actors, err := s.app.AuditActors(ctx, by)
	if err != nil {
		return err
	}
	places := s.names(c)
	say := auditSayer{l: s.locale(c), names: names, places: places}
	lines := make([]auditLine, len(rows))
	for i, r := range rows {
		lines[i] = say.line(r)
	}
	data := map[string]any{"Lines": lines, "F": f, "Q": c.QueryParams(), "Names": places,
		"ActionGroups": auditActionGroups(), "Actors": actors}
	if len(rows) == 50 {
		q := c.QueryParams()
		q.Set("before", itoa(rows[len(rows)-1].ID))
		data["Older"] = "/officer/audit?" + q.Encode()
	}
	return s.page(c, http.StatusOK, "officer/audit", "title.audit", data)
}

func (s *Server) apiAudit(c echo.Context) error {
	rows, err := s.app.AuditLog(c.Request().Context(), officerOf(c), auditFilter(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": jsonList(rows)})
}

// auditActionGroup is one area's actions, as the filter offers them.
type auditActionGroup struct {
	Area    string
	Actions []string
}

// auditActionGroups groups every action code by its area ("campaign" of
// "campaign.approve"), in the list's order.
func auditActionGroups() []auditActionGroup {
	var out []auditActionGroup
	for _, a := range app.AuditActions {
		area, _, _ := strings.Cut(a, ".")
		if len(out) == 0 || out[len(out)-1].Area != area {
			out = append(out, auditActionGroup{Area: area})
		}
		out[len(out)-1].Actions = append(out[len(out)-1].Actions, a)
	}
	return out
}

// auditLine is one audit row as the page says it.
type auditLine struct {
	ID       int64
	At       time.Time
	District string
	Sentence template.HTML // who did what to which record, the record linked where it has a page
	Changes  []auditChange
}

// Created says the row set its fields rather than changed them (a
// creation): the page lists them side by side rather than one a line.
func (l auditLine) Created() bool {
	for _, ch := range l.Changes {
		if !ch.Added {
			return false
		}
	}
	return len(l.Changes) > 0
}

// auditChange is one changed field: "预算：¥20,000.00 → ¥25,000.00", or a
// field a creation set, with no Before.
type auditChange struct {
	Label, Before, After string
	Added                bool
}

// auditSayer says audit rows in one language, with the names of what a
// page of rows refers to.
type auditSayer struct {
	l      *Locale
	names  app.AuditNames
	places map[string]string // districts and categories by code (Server.names)
}

// auditNotes are the snapshot fields that a row's sentence says (an
// approver's opinion, a reason the maker or merchant is shown), rather
// than its list of changes.
var auditNotes = []struct{ field, key string }{
	{"opinion", "audit.note_opinion"}, {"reason", "audit.note_reason"}, {"note", "audit.note_reason"},
}

// auditPages are the records with a page of their own to link to.
var auditPages = map[string]string{"campaign": "/officer/campaigns/", "feedback": "/officer/feedback/",
	"payment_batch": "/officer/settlements/batches/"}

func (say auditSayer) line(r app.AuditEntry) auditLine {
	l := say.l
	msg := l.T("audit.line." + strings.ReplaceAll(r.Action, ".", "_"))
	if strings.HasPrefix(msg, "audit.line.") {
		msg = l.T("audit.line_other", "action", l.Action(r.Action)) // a code older than its words
	}
	subject := template.HTML(template.HTMLEscapeString(say.subject(r)))
	if page, ok := auditPages[r.Entity]; ok && r.EntityID > 0 {
		subject = template.HTML(`<a href="`+template.HTMLEscapeString(page+strconv.FormatInt(r.EntityID, 10))+`">`) + subject + "</a>"
	}
	sentence := fillHTML(msg, map[string]template.HTML{
		"actor": template.HTML(template.HTMLEscapeString(say.actor(r))), "entity": subject})
	after := map[string]json.RawMessage{}
	_ = json.Unmarshal([]byte(r.AfterJSON), &after) // a row without an after snapshot has no notes
	noted := map[string]bool{}
	for _, n := range auditNotes {
		noted[n.field] = true
		var text string
		if json.Unmarshal(after[n.field], &text) == nil && strings.TrimSpace(text) != "" {
			sentence += template.HTML(template.HTMLEscapeString(l.T(n.key, "text", text)))
		}
	}
	return auditLine{ID: r.ID, At: r.At, District: r.District, Sentence: sentence, Changes: say.changes(r, noted)}
}

// actor names who acted: the officer's name and role, or the product
// itself, or a resident (who is not named in the log's words).
func (say auditSayer) actor(r app.AuditEntry) string {
	l := say.l
	if o, ok := say.names.Officers[r.ActorID]; ok && r.ActorID > 0 {
		role := l.T("role." + o.Role)
		if o.CanApprove {
			role = l.T("audit.approver_role", "role", role)
		}
		return l.T("audit.actor_role", "name", o.Name, "role", role)
	}
	switch r.Actor {
	case "system":
		return l.T("audit.actor_system")
	case "resident":
		return l.T("audit.actor_resident")
	}
	return r.Actor
}

// subject names the record a row is about: 活动「渝味360碗」 where its name
// is known, 活动 #12 where not.
func (say auditSayer) subject(r app.AuditEntry) string {
	l := say.l
	noun := l.T("audit.noun_" + r.Entity)
	var name string
	switch r.Entity {
	case "campaign":
		name = say.names.Campaigns[r.EntityID]
	case "merchant":
		name = say.names.Merchants[r.EntityID]
	case "officer":
		name = say.names.Officers[r.EntityID].Name
	case "district_contact":
		name = say.places[r.District]
	}
	if name != "" {
		return l.T("audit.named", "entity", noun, "name", name)
	}
	return l.T("audit.unnamed", "entity", noun, "id", r.EntityID)
}

// auditFieldAlias compares a field recorded under another name with the
// field it stands for: a budget raise records the budget it asks for
// beside the budget it would replace, and a stored campaign its first
// category beside all of them.
var auditFieldAlias = map[string]string{"pending_budget_fen": "budget_fen", "category": "categories"}

// changes lists the fields a row changed, labelled and shown as people
// read them. Fields without a label (ids, counters kept for the record)
// are left to the export, which carries the snapshots whole.
func (say auditSayer) changes(r app.AuditEntry, noted map[string]bool) []auditChange {
	l := say.l
	var out []auditChange
	at := map[string]int{}
	for _, ch := range app.SnapshotDiff(r.BeforeJSON, r.AfterJSON) {
		field := snakeCase(ch.Field)
		if alias, ok := auditFieldAlias[field]; ok {
			field = alias
		}
		label, ok := say.label(field)
		if !ok || noted[field] {
			continue
		}
		before, after := say.value(r.Entity, field, ch.Before), say.value(r.Entity, field, ch.After)
		if i, ok := at[field]; ok { // the other half of an aliased pair
			if before != "" {
				out[i].Before = before
			}
			if after != "" {
				out[i].After = after
			}
			out[i].Added = out[i].Before == ""
			continue
		}
		if before == "" && (after == "" || after == "0" || after == l.T("audit.no")) {
			continue // a creation's unset fields
		}
		at[field] = len(out)
		out = append(out, auditChange{Label: label, Before: before, After: after, Added: before == ""})
	}
	return out
}

// label is a field's name in words: the audit page's own (short, without
// a form's hints such as "（元）"), else the form's.
func (say auditSayer) label(field string) (string, bool) {
	// budget_fen and claim_ends_at are the budget and claim_ends of the form.
	short := strings.TrimSuffix(strings.TrimSuffix(field, "_fen"), "_at")
	for _, key := range []string{"audit.field_" + field, "audit.field_" + short, "field." + field, "field." + short} {
		if say.l.Has(key) {
			return say.l.T(key), true
		}
	}
	return "", false
}

// auditStatuses are where each record's status is said in words, and
// auditCodes where the campaign's other coded fields are.
var (
	auditStatuses = map[string]string{"campaign": "status.", "merchant": "merchant_status.", "feedback": "feedback.status_"}
	auditCodes    = map[string]string{"validity_mode": "validity.", "release_mode": "release."}
)

// yuanFields are the campaign form's amounts, recorded in yuan as typed;
// flagFields its switches, recorded as "1" and "0".
var (
	yuanFields = map[string]bool{"budget": true, "max_bill": true}
	flagFields = map[string]bool{"drop_rollover": true, "recycle_expired": true, "require_real_name": true}
)

// value shows one recorded value: money in fen or yuan as ¥ with
// separators, times in Asia/Shanghai, statuses, roles, districts and
// categories by name, yes or no; "" for nothing.
func (say auditSayer) value(entity, field string, raw json.RawMessage) string {
	l := say.l
	if len(raw) == 0 {
		return ""
	}
	var n int64
	if strings.HasSuffix(field, "_fen") && json.Unmarshal(raw, &n) == nil {
		return app.Fen(n).Grouped()
	}
	var yes bool
	if json.Unmarshal(raw, &yes) == nil {
		return l.T(map[bool]string{true: "audit.yes", false: "audit.no"}[yes])
	}
	var tiers []app.Tier
	if field == "tiers" && json.Unmarshal(raw, &tiers) == nil && len(tiers) > 0 && tiers[0].FaceFen > 0 {
		name := app.TierLabeler(app.Campaign{Tiers: tiers}) // a stored campaign's tiers; the form's are TierInput
		parts := make([]string, len(tiers))
		for i, t := range tiers {
			parts[i] = name(t.ID) + " × " + strconv.FormatInt(t.Quantity, 10)
		}
		return strings.Join(parts, l.T("audit.list_sep"))
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		for i, s := range list {
			list[i] = say.place(s)
		}
		return strings.Join(list, l.T("audit.list_sep"))
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return app.ShownValue(raw)
	}
	switch {
	case s == "":
		return ""
	case field == "status" && auditStatuses[entity] != "":
		return l.T(auditStatuses[entity] + s)
	case auditCodes[field] != "" && l.Has(auditCodes[field]+s):
		return l.T(auditCodes[field] + s)
	case field == "role":
		return l.T("role." + s)
	case field == "action" || field == "action_is":
		return l.Action(s)
	case flagFields[field]:
		return l.T(map[bool]string{true: "audit.yes", false: "audit.no"}[s == "1"])
	case yuanFields[field]:
		if f, err := app.ParseYuan(s); err == nil {
			return f.Grouped()
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.IsZero() {
			return ""
		}
		return app.FormatLocal(t)
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, app.Shanghai); err == nil {
		return app.FormatLocal(t) // the campaign form's local times
	}
	return say.place(s)
}

// place names a district or category code; other text stays as it is.
func (say auditSayer) place(s string) string {
	if name, ok := say.places[s]; ok {
		return name
	}
	return s
}

// snakeCase turns the Go field names a filter is recorded with
// ("EntityID") into the names labels use ("entity_id").
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fillHTML fills a message's {name} placeholders with HTML and escapes
// the message's own text around them.
func fillHTML(msg string, vals map[string]template.HTML) template.HTML {
	var out strings.Builder
	for {
		open := strings.IndexByte(msg, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(msg[open:], '}')
		if end < 0 {
			break
		}
		end += open
		out.WriteString(template.HTMLEscapeString(msg[:open]))
		if v, ok := vals[msg[open+1:end]]; ok {
			out.WriteString(string(v))
		} else {
			out.WriteString(template.HTMLEscapeString(msg[open : end+1]))
		}
		msg = msg[end+1:]
	}
	out.WriteString(template.HTMLEscapeString(msg))
	return template.HTML(out.String())
}
