// Package realname checks names against ID numbers through a licensed
// 实名核验 (real-name verification) service over HTTP. Such services
// (run under licence against the public security authority's records)
// differ in their envelopes; what they share is "send the name and the
// number, learn whether they belong together", which is what this speaks.
// The protocol is documented in docs/identity.md; put a small translating
// proxy in front of a provider that speaks another dialect.
package realname

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"cqvoucher/app"
)

// Provider calls the service: a JSON body {"request_id", "name",
// "id_number"} POSTed with a bearer token, answered by {"result"} with
// "match", "mismatch" or "no_record".
type Provider struct {
	url    string
	appID  string
	token  string
	client *http.Client
}

// New checks the URL and returns a verifier that gives up after timeout,
// so that a hung provider fails the resident's request instead of holding it.
func New(rawURL, appID, token string, timeout time.Duration) (*Provider, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("identity provider URL %q: want https://host/path", rawURL)
	}
	if token == "" {
		return nil, errors.New("identity provider: no token (set VOUCHERD_IDENTITY_TOKEN)")
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("identity provider timeout %v: want more than 0", timeout)
	}
	return &Provider{url: rawURL, appID: appID, token: token, client: &http.Client{Timeout: timeout}}, nil
}

// Kind implements app.IdentityVerifier.
func (*Provider) Kind() string { return app.IdentityProvider }

// Results the provider may answer.
const (
	ResultMatch    = "match"     // name and number belong to one person
	ResultMismatch = "mismatch"  // the number exists, the name is not its holder's
	ResultNoRecord = "no_record" // no such number
)

// Verify implements app.IdentityVerifier. Only a well-formed answer of
// the provider is a yes or a no; anything else is an error, never a no.
func (p *Provider) Verify(ctx context.Context, name, idNumber string) (bool, error) {
	rid := make([]byte, 16)
	if _, err := rand.Read(rid); err != nil {
		return false, err
	}
	body, err := json.Marshal(map[string]string{"request_id": hex.EncodeToString(rid), "name": name, "id_number": idNumber})
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.token)
	if p.appID != "" {
		req.Header.Set("X-App-Id", p.appID)
	}
	res, err := p.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) && uerr.Timeout() {
			return false, fmt.Errorf("identity provider: no answer within %v", p.client.Timeout)
		}
		// url.Error repeats the URL, never the body (which carries the name and number).
		return false, fmt.Errorf("identity provider: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return false, fmt.Errorf("identity provider: reading the answer: %w", err)
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("identity provider refused our credentials (%d): check VOUCHERD_IDENTITY_TOKEN and -identity-app-id", res.StatusCode)
	case res.StatusCode == http.StatusTooManyRequests:
		return false, errors.New("identity provider: our request quota is used up (429)")
	case res.StatusCode < 200 || res.StatusCode > 299:
		// Not the body: a provider may echo the request, name and number.
		return false, fmt.Errorf("identity provider answered %d", res.StatusCode)
	}
	var ans struct {
		Result string `json:"result"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return false, fmt.Errorf("identity provider: answer is not JSON: %w", err)
	}
	switch ans.Result {
	case ResultMatch:
		return true, nil
	case ResultMismatch, ResultNoRecord:
		return false, nil
	default:
		return false, fmt.Errorf("identity provider: unknown result %q", ans.Result)
	}
}
