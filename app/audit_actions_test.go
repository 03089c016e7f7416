package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestAuditActionsAreListed: every action code the product's code spells
// out (a string "<area>.<verb>" of an area the log knows, or the bare
// "<area>." that a code built at run time starts with) is in AuditActions,
// so the audit page can offer it and say it in words.
func TestAuditActionsAreListed(t *testing.T) {
	listed := map[string]bool{}
	areas := map[string]bool{}
	for _, a := range AuditActions {
		if listed[a] {
			t.Errorf("%s is listed twice", a)
		}
		listed[a] = true
		area, _, _ := strings.Cut(a, ".")
		areas[area] = true
	}
	names := make([]string, 0, len(areas))
	for a := range areas {
		names = append(names, regexp.QuoteMeta(a))
	}
	// A verb is words joined by "_"; "feedback.status_" is the start of a
	// message key, not of an action.
	code := regexp.MustCompile(`^(` + strings.Join(names, "|") + `)\.([a-z]+(_[a-z]+)*)?$`)
	files := 0
	for _, dir := range []string{".", "../seeds", "../cmd", "../db"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			files++
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			// A message key looked up with T ("merchant.uscc_ok") has an
			// area's shape but is no action.
			messageKeys := map[ast.Node]bool{}
			ast.Inspect(f, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok && len(call.Args) > 0 {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "T" {
						messageKeys[call.Args[0]] = true
					}
				}
				lit, ok := n.(*ast.BasicLit)
				if ok && messageKeys[lit] {
					return true
				}
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err == nil && code.MatchString(s) && !listed[s] {
					t.Errorf("%s writes audit action %q, which AuditActions does not list", path, s)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 50 {
		t.Fatalf("only %d source files read", files)
	}
}
