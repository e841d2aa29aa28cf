package roster_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// importRule says what one package of the module may import. Packages
// of the module are named relative to it: "" is the root, "reconcile" is
// github.com/rosterhq/roster/reconcile, and "cmd/..." is cmd and every
// package under it. Packages from outside the module are named in full.
//
// Only the packages' own files count: a test may import more (a test
// binary is not part of the layering). Files built for one platform only
// (lock_windows.go) count on that platform: the rules are checked on
// every platform roster is released for.
type importRule struct {
	pkg string
	// only, when not nil, is all the package may import beside the
	// standard library. It is checked on the package's own imports; what
	// those bring in is governed by their own rules.
	only []string
	// not is what the package may not depend on, directly or through
	// other packages: a detour does not make a forbidden import right.
	not []string
	// why is the rule in words, for the message that reports a breach.
	why string
}

// importRules are the module's layering, one line a package: the
// dependencies point one way, from cmd/roster through the runtime and
// the outside dependencies' packages to the domain. A new package gets
// its line here.
var importRules = []importRule{
	{pkg: "", only: []string{"golang.org/x/text/unicode/norm"},
		why: "the root is the domain: plain types and the interfaces the rest shares, on the standard library only (and Unicode normalisation, which logins need)"},
	{pkg: "reconcile", only: []string{""},
		why: "the sync engine is pure: it reads the directory and writes the store through interfaces of its own, and imports only the domain"},
	{pkg: "sqlstore", not: []string{"reconcile", "ldap", "http", "pfx"},
		why: "the store takes the engine's plan as root types and imports no other outside dependency's package"},
	{pkg: "ldap", not: []string{"sqlstore", "sqlite", "postgres", "reconcile", "http"},
		why: "the directory client only reads directories: the engine decides what the records become, and the store keeps them"},
	{pkg: "http", not: []string{"ldap", "sqlstore", "sqlite", "postgres", "reconcile"},
		why: "the API declares the interfaces it needs, and cmd/roster hands it their implementations"},
	{pkg: "pfx", only: []string{"", "software.sslmate.com/src/go-pkcs12"},
		why: "certificates are made and checked from bytes: no directory, no store, no server"},
	{pkg: "datadir", only: []string{"", "golang.org/x/sys/windows"},
		why: "the data folder's lock and keys are files, read by every command: nothing heavier may come with them"},
	{pkg: "backup", only: []string{"", "golang.org/x/crypto/scrypt"},
		why: "the backup format is a file of its own: the caller hands it the copy and the keys"},
	{pkg: "graph", not: []string{"sqlstore", "sqlite", "postgres", "reconcile", "ldap", "http", "runner"},
		why: "the Graph client only reads Entra ID, as the directory client reads LDAP: the engine decides what the records become"},
	{pkg: "doctor", not: []string{"sqlstore", "sqlite", "postgres", "reconcile", "http", "runner", "cmd/..."},
		why: "a diagnosis reads the directory and the certificate; it keeps nothing and runs no sync"},
	{pkg: "userbase", not: []string{"reconcile", "ldap", "http", "runner", "cmd/..."},
		why: "finding, opening, backing up and restoring the user base needs the stores and the data folder, not the directory, the engine or the API"},
	{pkg: "runner", not: []string{"http", "cmd/..."},
		why: "the sync runtime is called by the CLI, serve and the API, and calls none of them"},
}

// listedPackage is what go list says of one package.
type listedPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Module     *struct {
		Path string
		Main bool
	}
	Error *struct{ Err string }
}

// releasePlatforms are those roster is built for (the Makefile's
// PLATFORMS), as its releases are built: without cgo.
var releasePlatforms = []string{"linux/amd64", "linux/arm64", "windows/amd64"}

func TestImportRules(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not installed: the import rules are not checked")
	}
	// A breach found on several platforms is reported once, naming them.
	var msgs []string
	where := map[string][]string{}
	for _, platform := range releasePlatforms {
		module, pkgs := listPackages(t, goCmd, platform)
		for _, msg := range checkImports(module, pkgs, importRules) {
			if where[msg] == nil {
				msgs = append(msgs, msg)
			}
			where[msg] = append(where[msg], platform)
		}
	}
	for _, msg := range msgs {
		on := "every platform"
		if len(where[msg]) < len(releasePlatforms) {
			on = strings.Join(where[msg], ", ")
		}
		t.Errorf("%s (on %s)", msg, on)
	}
}

// listPackages runs go list on the module for a platform ("linux/amd64")
// and returns the module's path and every package it lists (the
// module's and their dependencies, standard library included), by import
// path.
func listPackages(t *testing.T, goCmd, platform string) (string, map[string]*listedPackage) {
	t.Helper()
	goos, goarch, _ := strings.Cut(platform, "/")
	cmd := exec.Command(goCmd, "list", "-e", "-deps", "-json=ImportPath,Standard,Imports,Module,Error", "./...")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list for %s: %v\n%s", platform, err, ee.Stderr)
		}
		t.Fatalf("go list for %s: %v", platform, err)
	}
	pkgs := map[string]*listedPackage{}
	module := ""
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list's output for %s: %v", platform, err)
		}
		pkgs[p.ImportPath] = p
		if p.Module != nil && p.Module.Main && (module == "" || len(p.ImportPath) < len(module)) {
			module = p.ImportPath // the shortest path of the main module: the root
		}
	}
	if module == "" {
		t.Fatalf("go list for %s named no package of this module", platform)
	}
	return module, pkgs
}

// checkImports returns a message for each breach of rules among pkgs
// (all of the module's packages and their dependencies, by import path),
// and for each rule that matches no package.
func checkImports(module string, pkgs map[string]*listedPackage, rules []importRule) []string {
	rel := func(path string) (string, bool) {
		if path == module {
			return "", true
		}
		r, ok := strings.CutPrefix(path, module+"/")
		return r, ok
	}
	name := func(path string) string {
		switch r, ok := rel(path); {
		case !ok:
			return path
		case r == "":
			return "the root package"
		default:
			return r
		}
	}
	matches := func(pattern, path string) bool {
		r, ok := rel(path)
		if !ok {
			return pattern == path
		}
		if base, ok := strings.CutSuffix(pattern, "/..."); ok {
			return r == base || strings.HasPrefix(r, base+"/")
		}
		return r == pattern
	}
	var paths []string
	for path := range pkgs {
		paths = append(paths, path)
	}
	slices.Sort(paths)

	var msgs []string
	for _, rule := range rules {
		found := false
		for _, path := range paths {
			p := pkgs[path]
			if _, ok := rel(path); !ok || !matches(rule.pkg, path) {
				continue
			}
			found = true
			if p.Error != nil {
				msgs = append(msgs, name(path)+": go list could not read it, so its imports are not checked: "+p.Error.Err)
			}
			if rule.only != nil {
				for _, imp := range p.Imports {
					if q := pkgs[imp]; q != nil && q.Standard {
						continue
					}
					if slices.ContainsFunc(rule.only, func(o string) bool { return matches(o, imp) }) {
						continue
					}
					msgs = append(msgs, name(path)+" imports "+name(imp)+", which its rule does not allow (only the standard library"+onlyList(rule.only, name, module)+"): "+rule.why)
				}
			}
			for _, forbidden := range rule.not {
				for _, dep := range paths {
					if dep == path || !matches(forbidden, dep) {
						continue
					}
					if chain := importChain(pkgs, path, dep); chain != nil {
						names := make([]string, len(chain))
						for i, c := range chain {
							names[i] = name(c)
						}
						how := ""
						if len(chain) > 2 {
							how = " (through " + strings.Join(names[1:len(names)-1], " -> ") + ")"
						}
						msgs = append(msgs, name(path)+" imports "+name(dep)+how+", which its rule forbids: "+rule.why)
					}
				}
			}
		}
		if !found {
			msgs = append(msgs, "the import rule for "+rule.pkg+" matches no package of the module: was it renamed or removed?")
		}
	}
	return msgs
}

// onlyList names what a rule allows beside the standard library.
func onlyList(only []string, name func(string) string, module string) string {
	var out string
	for _, o := range only {
		path := o
		if !strings.Contains(o, ".") { // a package of the module
			path = strings.TrimSuffix(module+"/"+o, "/")
		}
		out += " and " + name(path)
	}
	return out
}

// importChain returns the shortest path of imports from one package to
// another, both ends included; nil when from does not depend on to.
func importChain(pkgs map[string]*listedPackage, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var chain []string
			for p := to; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		if p := pkgs[cur]; p != nil {
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return nil
}

// The checker itself, on a made-up module: each kind of breach is
// reported, naming the package, the import and the rule.
func TestImportRulesReportBreaches(t *testing.T) {
	const m = "example.com/m"
	std := func(path string) *listedPackage { return &listedPackage{ImportPath: path, Standard: true} }
	own := func(path string, imports ...string) *listedPackage {
		p := &listedPackage{ImportPath: path, Imports: imports}
		p.Module = &struct {
			Path string
			Main bool
		}{m, true}
		return p
	}
	pkgs := map[string]*listedPackage{}
	for _, p := range []*listedPackage{
		std("fmt"), std("os"),
		{ImportPath: "example.org/norm"}, {ImportPath: "example.org/yaml"},
		own(m, "fmt", "example.org/norm", "example.org/yaml"),
		own(m+"/engine", "fmt", m, m+"/web"),
		own(m+"/store", "os", m, m+"/helper"),
		own(m+"/helper", m+"/engine"),
		own(m+"/web", m),
		own(m+"/cmd/tool", m+"/web"),
	} {
		pkgs[p.ImportPath] = p
	}
	rules := []importRule{
		{pkg: "", only: []string{"example.org/norm"}, why: "rule A"},
		{pkg: "engine", only: []string{""}, why: "rule B"},
		{pkg: "store", not: []string{"engine"}, why: "rule C"},
		{pkg: "web", not: []string{"cmd/..."}, why: "rule D"},
		{pkg: "gone", not: []string{"web"}, why: "rule E"},
	}
	got := checkImports(m, pkgs, rules)
	want := []string{
		"the root package imports example.org/yaml, which its rule does not allow (only the standard library and example.org/norm): rule A",
		"engine imports web, which its rule does not allow (only the standard library and the root package): rule B",
		"store imports engine (through helper), which its rule forbids: rule C",
		"the import rule for gone matches no package of the module: was it renamed or removed?",
	}
	if !slices.Equal(got, want) {
		t.Errorf("breaches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
