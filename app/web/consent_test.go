package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cqvoucher/app/apptest"
)

// A sign-in code is sent only to a resident who ticked agreement to the
// 用户协议 and 隐私政策; the API and the form both check it.
func TestSignInCodeNeedsConsent(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	const phone = "13800138000"
	for _, body := range []map[string]any{{"phone": phone}, {"phone": phone, "consent": false}} {
		r := e.API(t, http.MethodPost, "/api/v1/resident/sms", "", body)
		if r.Status != http.StatusUnprocessableEntity || r.Reason() != "consent_required" || !strings.Contains(string(r.Raw), `"consent":"consent_required"`) {
			t.Fatalf("%v: %d %s, want 422 consent_required with fields.consent", body, r.Status, r.Raw)
		}
		if code := e.SMS.Code(phone); code != "" {
			t.Fatalf("%v: a code was sent without consent", body)
		}
	}
	r := e.API(t, http.MethodPost, "/api/v1/resident/sms", "", map[string]any{"phone": phone, "consent": true})
	if r.Status != http.StatusAccepted || !strings.Contains(string(r.Raw), `"resend_after_seconds":60`) ||
		!strings.Contains(string(r.Raw), `"terms_version":"`+e.App.Terms().Version+`"`) {
		t.Fatalf("with consent: %d %s, want 202 with the terms version and the 60 s resend interval", r.Status, r.Raw)
	}
	if e.SMS.Code(phone) == "" {
		t.Fatal("with consent no code was sent")
	}

	b := authzNewBrowser(t, e)
	login := b.do(t, http.MethodGet, "/m/login", nil)
	for _, want := range []string{`<input type="checkbox" name="consent" value="1" required>`, `href="/m/terms"`, `href="/m/privacy"`, "用户协议", "隐私政策"} {
		if !strings.Contains(login.body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	if terms := b.do(t, http.MethodGet, "/m/terms", nil); terms.status != http.StatusOK || !strings.Contains(terms.body, "版本："+e.App.Terms().Version) {
		t.Errorf("/m/terms: %d, version shown: %v", terms.status, strings.Contains(terms.body, e.App.Terms().Version))
	}

	const other = "13900139000"
	p := b.do(t, http.MethodPost, "/m/login/code", url.Values{"phone": {other}})
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "请先勾选同意《用户协议》和《隐私政策》，未同意前不会发送验证码。") {
		t.Fatalf("form without consent: %d, want 422 saying why:\n%.800s", p.status, p.body)
	}
	if strings.Contains(p.body, `name="code"`) || e.SMS.Code(other) != "" {
		t.Fatal("the form sent a code without consent")
	}
	p = b.do(t, http.MethodPost, "/m/login/code", url.Values{"phone": {other}, "consent": {"1"}})
	if p.status != http.StatusOK || e.SMS.Code(other) == "" {
		t.Fatalf("form with consent: %d, code sent: %v", p.status, e.SMS.Code(other) != "")
	}
	// The code step shows the number masked and counts down the server's
	// resend interval on a disabled button.
	if !strings.Contains(p.body, "验证码已发送至 139****9000") || strings.Contains(p.body, "验证码已发送至 "+other) {
		t.Errorf("code step does not mask the number:\n%.800s", p.body)
	}
	if !strings.Contains(p.body, `disabled data-resend-after="60"`) {
		t.Errorf("resend button is not held for the 60 s resend interval:\n%.1500s", p.body)
	}
}
