package apptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cqvoucher/templates"
)

// apiDescription is templates/static/openapi.json, the document integrators
// read, loaded and checked once for every test of the process.
var apiDescription = sync.OnceValues(func() (routers.Router, error) {
	raw, err := fs.ReadFile(templates.FS, "static/openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	return gorillamux.NewRouter(doc)
})

// The document takes a second or more to load and check under -race: start
// at once, so that the first API call of a test binary does not stall in
// the middle of a test that counts requests against a wall-clock limiter.
func init() { go func() { _, _ = apiDescription() }() }

// CheckAgainstDescription holds one JSON exchange with /api/v1 to what
// openapi.json promises, and fails the test (t.Errorf) where they differ:
// the response must be one the operation documents (its status and its
// schema), and a request the server accepted (2xx) must be one the
// document allows, or the two disagree about what a client may send.
// Requests the server refused are not checked: tests send bad input on
// purpose, and the refusal's body is what they check. Other paths and
// non-JSON answers are left alone, so any test client can call it on every
// exchange. The request's body is read again through req.GetBody (set by
// http.NewRequest for in-memory bodies).
func CheckAgainstDescription(t testing.TB, req *http.Request, res *http.Response, resBody []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") || !isJSON(res.Header.Get("Content-Type")) {
		return
	}
	router, err := apiDescription()
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	req = req.Clone(context.Background())
	req.Body = http.NoBody
	if req.GetBody != nil {
		if req.Body, err = req.GetBody(); err != nil {
			t.Errorf("%s %s: rereading the request body: %v", req.Method, req.URL.Path, err)
			return
		}
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Unknown paths and methods answer 404/405; anything else is a route
		// the document leaves out (TestOpenAPIDescribesEveryRoute says which).
		if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s answered %d, but openapi.json has no such operation: %v", req.Method, req.URL.Path, res.StatusCode, err)
		}
		return
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if res.StatusCode/100 == 2 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s was accepted (%d), but openapi.json does not allow the request: %s", req.Method, req.URL.RequestURI(), res.StatusCode, describe(err))
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Options: opts}
	out.Body = io.NopCloser(bytes.NewReader(resBody))
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d does not match openapi.json: %s\nbody: %.2000s", req.Method, req.URL.RequestURI(), res.StatusCode, describe(err), resBody)
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// describe spells out every failure of a multi-error on its own line.
func describe(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var b strings.Builder
		for _, e := range me {
			b.WriteString("\n  - ")
			b.WriteString(describe(e))
		}
		return b.String()
	}
	return err.Error()
}
