package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"cqvoucher/app"
	"cqvoucher/app/web"
	"cqvoucher/templates"
)

// TestOrganiserFlagsNameTheOrganiserInTheTexts: -organiser and
// -organiser-contact are what the 用户协议 and 隐私政策 say, and make them a
// version of their own; -admission-queue takes a count of at least one.
func TestOrganiserFlagsNameTheOrganiserInTheTexts(t *testing.T) {
	const organiser, contact = "重庆市渝中区商务委员会", "023-6310 0000（工作日 9:00–17:00）"
	cfg, _, err := parseFlags([]string{"-organiser", organiser, "-organiser-contact", contact, "-admission-queue", "7",
		"-addr", "127.0.0.1:0", "-data", t.TempDir()})
	if err != nil || cfg.Organiser != organiser || cfg.OrganiserContact != contact || cfg.AdmissionQueue != 7 {
		t.Fatalf("parseFlags: %+v, %v", cfg, err)
	}
	if c, _, err := parseFlags(nil); err != nil || c.Organiser != app.DemoTerms().Organiser || c.AdmissionQueue != app.DefaultConfig().AdmissionQueue {
		t.Errorf("defaults: organiser %q, admission queue %d, %v", c.Organiser, c.AdmissionQueue, err)
	}
	if _, _, err := parseFlags([]string{"-admission-queue", "0"}); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("-admission-queue 0: %v", err)
	}

	m, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want, err := web.TermsVersion(templates.FS, app.Terms{Organiser: organiser, Contact: contact})
	if err != nil {
		t.Fatal(err)
	}
	demo, _ := web.TermsVersion(templates.FS, app.DemoTerms())
	if got := m.App.Terms(); got.Organiser != organiser || got.Contact != contact || got.Version != want || want == demo {
		t.Fatalf("the App's terms %+v, want %s and %s, version %s (not the demo's %s)", got, organiser, contact, want, demo)
	}
	for _, path := range []string{"/m/terms", "/m/privacy"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Language", "zh-CN")
		m.Server.ServeHTTP(rec, req)
		body := rec.Body.String()
		for _, s := range []string{organiser, contact, "版本：" + want} {
			if rec.Code != http.StatusOK || !strings.Contains(body, s) {
				t.Errorf("%s: %d, lacks %q", path, rec.Code, s)
			}
		}
	}
}
