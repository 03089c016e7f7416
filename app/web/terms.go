package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"cqvoucher/app"
)

// The 用户协议 and 隐私政策 are these pages with these messages (every
// language), and the organiser and contact an operator names in them.
var (
	termsPages    = []string{"pages/resident/terms.html", "pages/resident/privacy.html"}
	termsMessages = []string{"terms.", "privacy.", "title.terms", "title.privacy"}
)

// TermsVersion identifies the 用户协议 and 隐私政策 as residents read
// them: a digest of their pages, their messages in every language and the
// organiser's name and contact. A version kept by hand is forgotten when a
// text changes; a digest cannot be, so every change to what residents
// agreed to asks them to agree again. app.Config.Terms.Version must be it
// (New checks).
func TermsVersion(fsys fs.FS, t app.Terms) (string, error) {
	h := sha256.New()
	// Length-prefixed, so no two different texts run together the same.
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
	for _, p := range termsPages {
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", err
		}
		field(p)
		field(string(body))
	}
	for _, lang := range languages {
		m, err := readMessages(fsys, lang)
		if err != nil {
			return "", err
		}
		var keys []string
		for k := range m {
			if slices.ContainsFunc(termsMessages, func(prefix string) bool { return strings.HasPrefix(k, prefix) }) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			field(lang + "/" + k)
			field(m[k])
		}
	}
	field(t.Organiser)
	field(t.Contact)
	return hex.EncodeToString(h.Sum(nil)[:6]), nil
}

// checkTermsVersion refuses to serve texts other than those the App asks
// residents to agree to.
func checkTermsVersion(fsys fs.FS, t app.Terms) error {
	want, err := TermsVersion(fsys, t)
	if err != nil {
		return err
	}
	if t.Version != want {
		return fmt.Errorf("web: app.Config.Terms.Version is %q, but the 用户协议 and 隐私政策 served are version %q (set it with web.TermsVersion)", t.Version, want)
	}
	return nil
}
