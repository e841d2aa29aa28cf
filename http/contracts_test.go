package http

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// notNarrowed lists the files whose handlers still reach the store
// through Server.Store rather than their group's view, and why.
var notNarrowed = map[string]string{
	"server.go": "it makes the views from Store",
}

// packageFiles parses the package's non-test Go files.
func packageFiles(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	return fset, files
}

// TestHandlersUseTheirGroupsStore keeps the split of Store meaningful:
// a handler that called s.Store would reach every group's methods, and
// its file's interface would no longer say what it may touch.
func TestHandlersUseTheirGroupsStore(t *testing.T) {
	fset, files := packageFiles(t)
	for name, f := range files {
		if _, ok := notNarrowed[name]; ok {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Store" {
				return true
			}
			if recv, ok := sel.X.(*ast.Ident); ok && recv.Name == "s" {
				t.Errorf("%s: a handler reaches s.Store; use its group's view (s.auth, s.users, s.runs, s.term, s.lockouts or s.health), or declare the method on that group's interface", fset.Position(sel.Pos()))
			}
			return true
		})
	}
}

// TestInterfaceMethodsHaveContracts holds every interface the package
// declares to the house habit: each method says what it promises, and
// each method that returns an error says which ones, on an "Errors:"
// line, so a fake or a new store knows what to return.
func TestInterfaceMethodsHaveContracts(t *testing.T) {
	fset, files := packageFiles(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				return true
			}
			for _, m := range it.Methods.List {
				fn, ok := m.Type.(*ast.FuncType)
				if !ok || len(m.Names) == 0 {
					continue // an embedded interface: its contracts are its own
				}
				name := ts.Name.Name + "." + m.Names[0].Name
				doc := m.Doc.Text()
				if doc == "" {
					t.Errorf("%s: %s has no contract comment", fset.Position(m.Pos()), name)
					continue
				}
				if returnsError(fn) && !strings.Contains(doc, "Errors:") {
					t.Errorf("%s: %s returns an error, but its comment has no \"Errors:\" line", fset.Position(m.Pos()), name)
				}
			}
			return true
		})
	}
}

func returnsError(fn *ast.FuncType) bool {
	if fn.Results == nil {
		return false
	}
	for _, r := range fn.Results.List {
		if id, ok := r.Type.(*ast.Ident); ok && id.Name == "error" {
			return true
		}
	}
	return false
}
