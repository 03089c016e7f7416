// Package sms delivers sign-in codes through an HTTP SMS gateway. Every
// province's carriers sit behind some vendor's gateway; what they share is
// "POST the number and the text, get 2xx back", which is what this speaks.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Gateway sends through an HTTP endpoint: a JSON body {"phone", "text"}
// POSTed with basic auth; any status but 2xx is a failed send.
type Gateway struct {
	url      string
	user     string
	password string
	client   *http.Client
}

// NewGateway checks the URL and returns a sender with a 10 s timeout, so
// a hung gateway fails the request instead of holding it.
func NewGateway(rawURL, user, password string) (*Gateway, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("sms gateway URL %q: want http(s)://host/path", rawURL)
	}
	return &Gateway{url: rawURL, user: user, password: password, client: &http.Client{Timeout: 10 * time.Second}}, nil
}

// Send implements app.SMSSender.
func (g *Gateway) Send(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(map[string]string{"phone": phone, "text": text})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if g.user != "" {
		req.SetBasicAuth(g.user, g.password)
	}
	res, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	defer res.Body.Close()
	// The body may explain a refusal; keep a little of it for the log,
	// never the request (it carries the code).
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 256))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("sms gateway answered %d: %s", res.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}
