package sms

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGatewaySends(t *testing.T) {
	var got map[string]string
	var user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	g, err := NewGateway(srv.URL+"/send", "district", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), "13800138000", "验证码 123456"); err != nil {
		t.Fatal(err)
	}
	if got["phone"] != "13800138000" || got["text"] != "验证码 123456" || user != "district" || pass != "s3cret" {
		t.Fatalf("gateway got %v as %s:%s", got, user, pass)
	}
}

func TestGatewayFailuresAreErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "quota exceeded", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	g, _ := NewGateway(srv.URL, "", "")
	if err := g.Send(context.Background(), "13800138000", "x"); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("refused send: %v", err)
	}
	srv.Close()
	if err := g.Send(context.Background(), "13800138000", "x"); err == nil {
		t.Fatal("send to a closed gateway succeeded")
	}
	for _, bad := range []string{"", "ftp://x", "gateway.example", "http://"} {
		if _, err := NewGateway(bad, "", ""); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}
