package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cqvoucher/app"
	"cqvoucher/app/apptest"
	"cqvoucher/app/realname"
)

// registerOfOne is a 实名核验 service that knows one person, 张三
// 11010519491231002X; down makes it answer 503.
func registerOfOne(t *testing.T, down *atomic.Bool) app.IdentityVerifier {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		result := "no_record"
		if body["id_number"] == "11010519491231002X" {
			result = map[bool]string{true: "match", false: "mismatch"}[body["name"] == "张三"]
		}
		fmt.Fprintf(w, `{"result":%q}`, result)
	}))
	t.Cleanup(srv.Close)
	p, err := realname.New(srv.URL, "cq-voucher", "token", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func residentPage(t *testing.T, e *apptest.Env, path, tok string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: "cqv_resident", Value: tok})
	res, err := apptest.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// With a provider, invented IDs with a valid checksum no longer buy extra
// vouchers: each phone must name a real person, and one person binds one
// account. The form asks for the name and the campaign form says what
// the check proves.
func TestRealNameWithAProviderRefusesInventedIDs(t *testing.T) {
	var down atomic.Bool
	e := apptest.New(t, apptest.Options{Identity: registerOfOne(t, &down)})
	verify := func(tok, name, id string) apptest.Response {
		return e.API(t, http.MethodPost, "/api/v1/resident/identity", tok, map[string]string{"name": name, "id_number": id})
	}
	_, a := e.ResidentSession(t, "13800000001")
	_, b := e.ResidentSession(t, "13900000002")
	// Checksum-valid numbers nobody holds, and a real number with the wrong name.
	for _, tc := range [][2]string{{"王五", "370101190102039973"}, {"赵六", "110101199003074477"}, {"李四", "11010519491231002X"}} {
		if r := verify(b, tc[0], tc[1]); r.Status != 422 || r.Reason() != "id_not_verified" {
			t.Fatalf("%s %s: %d %s", tc[0], tc[1], r.Status, r.Raw)
		}
	}
	if r := verify(b, " ", "11010519491231002X"); r.Status != 422 || r.Reason() != "name_required" {
		t.Fatalf("no name: %d %s", r.Status, r.Raw)
	}
	down.Store(true)
	if r := verify(a, "张三", "11010519491231002X"); r.Status != 500 || r.Reason() != "identity_unavailable" {
		t.Fatalf("provider down: %d %s", r.Status, r.Raw)
	}
	down.Store(false)
	if r := verify(a, "张三", "11010519491231002X"); r.Status != 200 {
		t.Fatalf("the real person: %d %s", r.Status, r.Raw)
	}
	if r := verify(b, "张三", "11010519491231002X"); r.Status != 409 || r.Reason() != "id_bound_elsewhere" {
		t.Fatalf("the real person's second phone: %d %s", r.Status, r.Raw)
	}
	if n := e.Count(t, `SELECT COUNT(*) FROM residents WHERE id_hash IS NOT NULL`); n != 1 {
		t.Fatalf("bound accounts = %d, want 1", n)
	}

	if page := residentPage(t, e, "/m/identity", b); !strings.Contains(page, `name="name"`) {
		t.Fatalf("the real-name form asks no name:\n%s", page)
	}
	_, form := getPage(t, e, "/officer/campaigns/new", officerToken(t, e, e.Maker))
	if !strings.Contains(string(form), "由持证实名核验服务比对姓名与身份证号") || !strings.Contains(string(form), "不能证明操作手机的就是本人") {
		t.Fatalf("the campaign form does not say what the provider proves")
	}
}

// The checksum-only default says plainly that it proves nothing about
// the person, and asks no name.
func TestChecksumOnlyRealNameSaysWhatItDoesNotProve(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	_, form := getPage(t, e, "/officer/campaigns/new", officerToken(t, e, e.Maker))
	if !strings.Contains(string(form), "仅校验身份证号格式和校验位，不能证明号码属于本人") {
		t.Fatalf("the campaign form does not say what checksum-only proves")
	}
	_, tok := e.ResidentSession(t, "13800000001")
	if page := residentPage(t, e, "/m/identity", tok); strings.Contains(page, `name="name"`) || !strings.Contains(page, `name="id_number"`) {
		t.Fatalf("checksum-only form:\n%s", page)
	}
}
