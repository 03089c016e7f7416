package realname_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/realname"
)

// provider answers like a 实名核验 service that knows one person.
func provider(t *testing.T, status int, answer string) (*httptest.Server, *[]map[string]string) {
	t.Helper()
	var got []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-App-Id") != "cq-voucher" ||
			r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		got = append(got, body)
		w.Header().Set("Content-Type", "application/json")
		out := answer
		if out == "" { // a real register
			out = `{"result":"no_record"}`
			if body["id_number"] == "11010519491231002X" {
				out = `{"result":"mismatch"}`
				if body["name"] == "张三" {
					out = `{"result":"match"}`
				}
			}
		}
		w.WriteHeader(status)
		w.Write([]byte(out))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestProviderAnswers(t *testing.T) {
	srv, got := provider(t, 200, "")
	p, err := realname.New(srv.URL, "cq-voucher", "s3cret", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind() != app.IdentityProvider {
		t.Fatalf("kind %q", p.Kind())
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, id string
		want     bool
	}{
		{"张三", "11010519491231002X", true},
		{"李四", "11010519491231002X", false}, // the number is someone else's
		{"张三", "370101190102039973", false}, // an invented number with a valid checksum
	} {
		ok, err := p.Verify(ctx, tc.name, tc.id)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%s, %s) = %v, %v; want %v", tc.name, tc.id, ok, err, tc.want)
		}
	}
	if len(*got) != 3 || (*got)[0]["name"] != "张三" || (*got)[0]["id_number"] != "11010519491231002X" || len((*got)[0]["request_id"]) != 32 ||
		(*got)[0]["request_id"] == (*got)[1]["request_id"] {
		t.Fatalf("requests: %v", *got)
	}
}

// Every answer that is not a well-formed yes or no is an error with a
// message an operator can act on, never a "no" and never the request.
func TestProviderErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		what   string
		status int
		answer string
		token  string
		want   string
	}{
		{"wrong token", 200, "", "wrong", "refused our credentials (401)"},
		{"quota", 429, `{"error":"quota"}`, "s3cret", "quota is used up (429)"},
		{"server error", 502, `<html>bad gateway 张三 11010519491231002X</html>`, "s3cret", "answered 502"},
		{"not JSON", 200, `OK`, "s3cret", "not JSON"},
		{"unknown result", 200, `{"result":"maybe"}`, "s3cret", `unknown result "maybe"`},
	} {
		srv, _ := provider(t, tc.status, tc.answer)
		p, err := realname.New(srv.URL, "cq-voucher", tc.token, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := p.Verify(ctx, "张三", "11010519491231002X")
		if ok || err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "11010519491231002X") {
			t.Errorf("%s: %v, %v; want an error saying %q without the number", tc.what, ok, err, tc.want)
		}
	}

	// A provider that does not answer in time: the request gives up.
	hold := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hold }))
	defer slow.Close()
	defer close(hold)
	p, err := realname.New(slow.URL, "", "s3cret", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Verify(ctx, "张三", "11010519491231002X"); ok || err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("slow provider: %v, %v", ok, err)
	}

	for _, bad := range [][2]string{{"ftp://x/", "s3cret"}, {"https://verify.example/v1", ""}} {
		if _, err := realname.New(bad[0], "", bad[1], time.Second); err == nil {
			t.Errorf("New(%q, token %q) accepted", bad[0], bad[1])
		}
	}
}
