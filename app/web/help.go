package web

import (
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"cqvoucher/app"
)

// residentHelp is the general help page: how claiming and using vouchers
// works, what to do when a till refuses, the questions residents ask, and
// every district's hotline and office hours.
func (s *Server) residentHelp(c echo.Context) error {
	s.optionalResident(c)
	ctx := c.Request().Context()
	contacts, err := s.app.Contacts(ctx)
	if err != nil {
		return err
	}
	camps, err := s.app.LiveCampaigns(ctx)
	if err != nil {
		return err
	}
	return s.page(c, http.StatusOK, "resident/help", "title.help", map[string]any{
		"Contacts": contacts, "Campaigns": camps, "Names": s.names(c),
		"Faq": helpFAQ, "DailyCap": app.FeedbackDailyCap,
	})
}

// helpFAQ names the questions of the general help page, in order; each
// is "help.faq_<name>_q" with its answer "help.faq_<name>_a".
var helpFAQ = []string{"no_stock", "limit", "expired", "below_threshold", "two_vouchers", "change", "refund", "refused", "offline", "other_phone", "data"}

// residentCampaignHelp is one campaign's help page: its rules in plain
// words, generated from its settings (app.CampaignRules), where it can be
// used (searchable by name and by district), and whom to call.
func (s *Server) residentCampaignHelp(c echo.Context) error {
	camp, merchants, err := s.publicCampaignAndMerchants(c)
	if err != nil {
		return err
	}
	contacts, err := s.app.Contacts(c.Request().Context())
	if err != nil {
		return err
	}
	names := s.names(c)
	l := s.locale(c)
	q, district := strings.TrimSpace(c.QueryParam("q")), c.QueryParam("district")
	data := map[string]any{
		"C": camp, "Phase": camp.Phase(s.app.Now()), "Names": names,
		"Rules":     ruleWords(l, names, app.CampaignRules(camp, s.app.Now())),
		"Districts": merchantDistricts(merchants), "District": district, "Q": q,
		"Merchants": filterMerchants(merchants, q, district, names), "Total": len(merchants),
	}
	if contact, ok := app.ContactOf(contacts, camp.District); ok {
		data["Contact"] = contact
	}
	return s.page(c, http.StatusOK, "resident/help_campaign", "title.help_campaign", data)
}

// ruleWords says rule lines in the reader's language; district and
// category codes among the parameters are said by their names.
func ruleWords(l *Locale, names map[string]string, rules []app.RuleLine) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		args := make([]any, 0, 2*len(r.Params))
		for k, v := range r.Params {
			switch k {
			case "district":
				v = names[v]
			case "categories":
				var ns []string
				for _, code := range strings.Split(v, ",") {
					ns = append(ns, names[code])
				}
				v = strings.Join(ns, l.T("help.list_sep"))
			}
			args = append(args, k, v)
		}
		out = append(out, l.T("help.rule_"+r.Key, args...))
	}
	return out
}

// filterMerchants keeps the merchants whose name or address holds q (or
// whose district's name does) and, when district is set, that are in it.
// The campaign page and the help page search the same way.
func filterMerchants(ms []app.Merchant, q, district string, names map[string]string) []app.Merchant {
	if q == "" && district == "" {
		return ms
	}
	var found []app.Merchant
	for _, m := range ms {
		if district != "" && m.District != district {
			continue
		}
		if q != "" && !strings.Contains(m.Name, q) && !strings.Contains(m.Address, q) && !strings.Contains(names[m.District], q) {
			continue
		}
		found = append(found, m)
	}
	return found
}

// merchantDistricts lists the districts that have eligible merchants, for
// the district filter: a district with none is no choice.
func merchantDistricts(ms []app.Merchant) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		if !seen[m.District] {
			seen[m.District] = true
			out = append(out, m.District)
		}
	}
	sort.Strings(out)
	return out
}

// officerContacts is the page where officers keep their district's
// hotline, office name and hours (a city-wide officer, every district's).
func (s *Server) officerContacts(c echo.Context) error {
	return s.contactsPage(c, http.StatusOK, "", app.ContactInput{}, nil)
}

// contactsPage renders the contacts page; failed is the district whose
// form was refused, shown again as typed with err's messages.
func (s *Server) contactsPage(c echo.Context, status int, failed string, typed app.ContactInput, err error) error {
	ds, stored, lerr := s.app.EditableContacts(c.Request().Context(), officerOf(c))
	if lerr != nil {
		return lerr
	}
	forms := make([]map[string]any, 0, len(ds))
	l := s.locale(c)
	for _, d := range ds {
		cur := stored[d.Code]
		in := app.ContactInput{OfficeName: cur.OfficeName, Hotline: cur.Hotline, OfficeHours: cur.OfficeHours, Address: cur.Address}
		row := map[string]any{"D": d, "Name": l.Name(d.NameZH, d.NameEN), "In": in, "Set": cur.District != "", "Errors": map[string]string{}}
		if d.Code == failed {
			row["In"] = typed
			if fe := l.FieldErrs(err); fe != nil {
				row["Errors"] = fe
			}
			row["Error"] = l.Err(err)
		}
		forms = append(forms, row)
	}
	return s.page(c, status, "officer/contacts", "title.officer_contacts", map[string]any{"Forms": forms})
}

func (s *Server) officerSaveContact(c echo.Context) error {
	district := c.Param("district")
	in := app.ContactInput{OfficeName: c.FormValue("office_name"), Hotline: c.FormValue("hotline"),
		OfficeHours: c.FormValue("office_hours"), Address: c.FormValue("address")}
	if _, err := s.app.SaveContact(c.Request().Context(), officerOf(c), district, in); err != nil {
		if code := app.ErrorCode(err); code != app.EINVALID {
			return err
		}
		return s.contactsPage(c, http.StatusUnprocessableEntity, district, in, err)
	}
	s.flash(c, "contact_saved")
	return c.Redirect(http.StatusSeeOther, "/officer/contacts#contact-"+district)
}
