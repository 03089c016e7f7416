package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"cqvoucher/app/apptest"
)

// openapiMethods are the operation keys of an OpenAPI path item.
var openapiMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true,
}

// openapiEchoParam matches an Echo path parameter (":id"), written "{id}" in OpenAPI.
var openapiEchoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openapiTemplateParam matches an OpenAPI path template parameter ("{id}").
var openapiTemplateParam = regexp.MustCompile(`\{([^}/]+)\}`)

// openapiFetch gets the API description the way an integrator does: over HTTP.
func openapiFetch(t *testing.T, e *apptest.Env) map[string]any {
	t.Helper()
	res, err := apptest.Client.Get(e.Server.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", res.StatusCode, raw)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	return doc
}

// TestOpenAPIDescribesEveryRoute keeps the API description and the router in
// step: a route added without documentation fails, and so does a documented
// operation that the server does not have.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	doc := openapiFetch(t, e)

	if v, _ := doc["openapi"].(string); v != "3.1.0" {
		t.Fatalf("openapi = %v, want 3.1.0", doc["openapi"])
	}
	if info, _ := doc["info"].(map[string]any); info == nil || info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs a title and a version: %v", doc["info"])
	}
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatal("the document has no paths")
	}

	documented := map[string]bool{}
	operationIDs := map[string]string{}
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Errorf("path %s: not an object", path)
			continue
		}
		for key, v := range item {
			if !openapiMethods[key] {
				continue
			}
			name := strings.ToUpper(key) + " " + path
			documented[name] = true
			o, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s: not an object", name)
				continue
			}
			if s, _ := o["summary"].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no summary", name)
			}
			if rs, _ := o["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s: no responses", name)
			}
			if id, _ := o["operationId"].(string); id != "" {
				if prev, dup := operationIDs[id]; dup {
					t.Errorf("operationId %q used by %s and %s", id, prev, name)
				}
				operationIDs[id] = name
			}
			openapiCheckPathParams(t, doc, name, path, item, o)
		}
	}

	// Every /api/v1 route the server registers, as OpenAPI writes it. The
	// description's own route (GET /api/v1/openapi.json) is an API route
	// like any other and is documented too, so nothing is left out.
	// Group.Use registers catch-all "route not found" entries for each
	// group with middleware (/api/v1/officer and /api/v1/officer/*, …), so
	// that a miss still runs the group's sign-in check; they are not
	// operations and are skipped.
	registered := map[string]bool{}
	for _, r := range e.Web.Routes() {
		if r.Method == echo.RouteNotFound || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		registered[r.Method+" "+openapiEchoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(registered) == 0 {
		t.Fatal("the server registers no /api/v1 routes")
	}

	for _, name := range openapiSorted(registered) {
		if !documented[name] {
			t.Errorf("route %s is not in templates/static/openapi.json", name)
		}
	}
	for _, name := range openapiSorted(documented) {
		if !registered[name] {
			t.Errorf("openapi.json documents %s, which the server does not register", name)
		}
	}

	openapiCheckRefs(t, doc, doc, "#")
}

// openapiCheckPathParams requires each "{name}" of a path to be declared as a
// required path parameter, on the operation or on its path item.
func openapiCheckPathParams(t *testing.T, doc map[string]any, name, path string, item, o map[string]any) {
	t.Helper()
	declared := map[string]bool{}
	for _, list := range []any{item["parameters"], o["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				target, err := openapiResolve(doc, ref)
				if err != nil {
					continue // reported by openapiCheckRefs
				}
				pm, _ = target.(map[string]any)
			}
			if pm["in"] == "path" {
				n, _ := pm["name"].(string)
				if req, _ := pm["required"].(bool); !req {
					t.Errorf("%s: path parameter %q must be required", name, n)
				}
				declared[n] = true
			}
		}
	}
	inPath := map[string]bool{}
	for _, m := range openapiTemplateParam.FindAllStringSubmatch(path, -1) {
		inPath[m[1]] = true
		if !declared[m[1]] {
			t.Errorf("%s: path parameter {%s} is not declared", name, m[1])
		}
	}
	for n := range declared {
		if !inPath[n] {
			t.Errorf("%s: declares path parameter %q that the path does not have", name, n)
		}
	}
}

// openapiCheckRefs walks the document and requires every $ref to point inside it.
func openapiCheckRefs(t *testing.T, doc map[string]any, node any, at string) {
	t.Helper()
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if k == "$ref" {
				ref, ok := v.(string)
				if !ok {
					t.Errorf("%s: $ref is not a string", at)
					continue
				}
				if _, err := openapiResolve(doc, ref); err != nil {
					t.Errorf("%s: $ref %q: %v", at, ref, err)
				}
				continue
			}
			openapiCheckRefs(t, doc, v, at+"/"+openapiEscape(k))
		}
	case []any:
		for i, v := range n {
			openapiCheckRefs(t, doc, v, at+"/"+strconv.Itoa(i))
		}
	}
}

// openapiResolve follows a local reference ("#/components/schemas/Voucher").
func openapiResolve(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("not a reference inside the document")
	}
	var node any = doc
	if rest == "" {
		return node, nil
	}
	if !strings.HasPrefix(rest, "/") {
		return nil, fmt.Errorf("not a JSON pointer")
	}
	for _, tok := range strings.Split(rest[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("no %q", tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("no element %q", tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("cannot descend into %q", tok)
		}
	}
	return node, nil
}

func openapiEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func openapiSorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
