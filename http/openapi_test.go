package http

// The OpenAPI document checked against the code: every route the server
// registers, every JSON body a handler decodes with its fields, the
// typed answers, and the 429 answers. Routes are read from the package's
// source (m.HandleFunc("METHOD /path", …) calls), so a new route fails
// here until the document describes it.

import (
	"encoding"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/pfx"
)

// requestTypes is the Go type each route decodes its JSON body into, by
// "METHOD path" as the document spells the path. A route whose handler
// decodes JSON and is missing here fails the test.
var requestTypes = map[string]any{
	"POST /api/v1/login":                    loginRequest{},
	"POST /api/v1/password":                 passwordRequest{},
	"POST /api/v1/tokens":                   tokenRequest{},
	"POST /api/v1/identify":                 identifyRequest{},
	"POST /api/v1/cards/test":               cardTestRequest{},
	"POST /api/v1/users/{login}/cards":      cardRequest{},
	"POST /api/v1/users/{login}/print-code": printCodeRequest{},
	"POST /api/v1/sources/{id}/print-codes": printCodeRequest{},
	"POST /api/v1/certificates/new":         newCertRequest{},
	"POST /api/v1/certificates/check":       checkCertRequest{},
	"POST /api/v1/sources":                  sourceJSON{},
	"PUT /api/v1/sources/{id}":              sourceJSON{},
	"POST /api/v1/sources/test":             sourceJSON{},
	"POST /api/v1/sources/diagnose":         sourceJSON{},
	"POST /api/v1/sources/{id}/move":        sourceJSON{},
}

// responseTypes is the Go type a route answers with, by "METHOD path
// status". Where a handler answers with a map, the struct here mirrors
// the map, to reach the typed values in it.
var responseTypes = map[string]any{
	"GET /api/v1/sources 200": struct {
		Sources []sourceJSON `json:"sources"`
	}{},
	"GET /api/v1/sources/{id} 200":             sourceJSON{},
	"PUT /api/v1/sources/{id} 200":             sourceJSON{},
	"POST /api/v1/sources 201":                 sourceJSON{},
	"POST /api/v1/sources/test 200":            roster.ConnectionTest{},
	"POST /api/v1/sources/diagnose 200":        roster.Diagnosis{},
	"POST /api/v1/sources/{id}/move 200":       roster.MoveResult{},
	"POST /api/v1/sources/{id}/preview 200":    roster.Preview{},
	"POST /api/v1/sources/{id}/write-test 200": roster.WriteTest{},
	"GET /api/v1/runs 200": struct {
		Runs []*roster.Run `json:"runs"`
	}{},
	"GET /api/v1/runs/{id} 200":          roster.Run{},
	"GET /api/v1/runs/{id}/progress 200": roster.RunProgress{},
	"POST /api/v1/identify 200":          identifyResponse{},
	"GET /api/v1/users/{login} 200":      userView{},
	"GET /api/v1/groups 200": struct {
		Groups []*roster.GroupSummary `json:"groups"`
	}{},
	"GET /api/v1/tokens 200": struct {
		Tokens []*roster.Token `json:"tokens"`
	}{},
	"GET /api/v1/lockouts 200": struct {
		Lockouts []lockoutView `json:"lockouts"`
	}{},
	"POST /api/v1/cards/test 200": struct {
		Results []cardTestResult `json:"results"`
	}{},
	"POST /api/v1/certificates/check 200":       pfx.Report{},
	"POST /api/v1/sources/{id}/print-codes 200": printCodesAnswer{},
	"GET /api/v1/users 200": struct {
		Total  int        `json:"total"`
		Offset int        `json:"offset"`
		Users  []userView `json:"users"`
	}{},
	"POST /api/v1/users/{login}/cards 201": struct {
		Login          string        `json:"login"`
		Cards          []roster.Card `json:"cards"`
		WrittenTo      string        `json:"written_to"`
		WriteBackError string        `json:"write_back_error"`
	}{},
	"POST /api/v1/tokens 201": struct {
		Token  *roster.Token `json:"token"`
		Secret string        `json:"secret"`
		Note   string        `json:"note"`
	}{},
	"POST /api/v1/certificates/new 201": struct {
		Domain      string       `json:"domain"`
		PFX         string       `json:"pfx_base64"`
		CER         string       `json:"cer_pem"`
		Certificate *pfx.Summary `json:"certificate"`
		RulesFailed int          `json:"rules_failed"`
		Password    string       `json:"password"`
	}{},
}

type printCodesAnswer struct {
	Source    string       `json:"source"`
	Generated int          `json:"generated"`
	Codes     []issuedCode `json:"codes"`
	Note      string       `json:"note"`
	WriteBack string       `json:"write_back"`
}

// openAPIDoc is the document the server serves.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	(&Server{Version: "test"}).openAPI(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	return doc
}

// specOps is the document's operations, by "METHOD path".
func specOps(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				ops[strings.ToUpper(method)+" "+path] = op.(map[string]any)
			case "parameters", "summary", "description":
			default:
				t.Errorf("%s has %q, which is no operation", path, method)
			}
		}
	}
	return ops
}

// route is one registration found in the source.
type route struct {
	key   string // "METHOD path", the path as the document spells it
	where string // file:line
	facts fnFacts
}

// fnFacts is what a handler may do, followed through the functions it
// calls in this package.
type fnFacts struct {
	decodesJSON bool // json.NewDecoder
	tooMany     bool // answers roster.ETOOMANY (429)
	retryAfter  bool // with a Retry-After header (errTooMany, or set by hand)
}

func (f fnFacts) or(g fnFacts) fnFacts {
	return fnFacts{f.decodesJSON || g.decodesJSON, f.tooMany || g.tooMany, f.retryAfter || g.retryAfter}
}

// fnInfo is one function body's own facts and the package functions it
// calls, by name (methods and functions alike: over-approximate).
type fnInfo struct {
	own   fnFacts
	calls []string
}

func inspectBody(n ast.Node) *fnInfo {
	info := &fnInfo{}
	var retryLiteral bool
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch fun := n.Fun.(type) {
			case *ast.Ident:
				info.calls = append(info.calls, fun.Name)
				if fun.Name == "errTooMany" {
					info.own.retryAfter = true
				}
			case *ast.SelectorExpr:
				info.calls = append(info.calls, fun.Sel.Name)
				if x, ok := fun.X.(*ast.Ident); ok && x.Name == "json" && fun.Sel.Name == "NewDecoder" {
					info.own.decodesJSON = true
				}
			}
		case *ast.SelectorExpr:
			if n.Sel.Name == "ETOOMANY" {
				info.own.tooMany = true
			}
		case *ast.BasicLit:
			if n.Value == `"Retry-After"` {
				retryLiteral = true
			}
		}
		return true
	})
	// writeError only passes on the header of an errTooMany; a handler
	// that refuses with ETOOMANY and sets the header itself sends it.
	if retryLiteral && info.own.tooMany {
		info.own.retryAfter = true
	}
	return info
}

// serverRoutes reads every route registration in the package's source:
// calls of Handle or HandleFunc with a "METHOD /path" pattern.
func serverRoutes(t *testing.T) []route {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	funcs := map[string][]*fnInfo{}
	type registration struct {
		pattern, where string
		handler        ast.Expr
	}
	var regs []registration
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				funcs[fd.Name.Name] = append(funcs[fd.Name.Name], inspectBody(fd.Body))
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle" {
				return true
			}
			where := fset.Position(call.Pos()).String()
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route registered with a pattern that is not a string literal; this test cannot read it", where)
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			regs = append(regs, registration{pattern, where, call.Args[1]})
			return true
		})
	}

	// Each handler's walk has its own seen set: a function met twice
	// has been counted once, which is all the handler's facts need.
	var factsOf func(name string, seen map[string]bool) fnFacts
	reach := func(info *fnInfo, seen map[string]bool) fnFacts {
		f := info.own
		for _, c := range info.calls {
			f = f.or(factsOf(c, seen))
		}
		return f
	}
	factsOf = func(name string, seen map[string]bool) fnFacts {
		if seen[name] {
			return fnFacts{}
		}
		seen[name] = true
		var f fnFacts
		for _, info := range funcs[name] {
			f = f.or(reach(info, seen))
		}
		return f
	}
	// handlerFacts follows a handler expression: s.write(s.saveSource)
	// is the wrapper write and the handler saveSource; a function
	// literal is its body.
	var handlerFacts func(e ast.Expr) fnFacts
	handlerFacts = func(e ast.Expr) fnFacts {
		switch e := e.(type) {
		case *ast.Ident:
			return factsOf(e.Name, map[string]bool{})
		case *ast.SelectorExpr:
			return factsOf(e.Sel.Name, map[string]bool{})
		case *ast.FuncLit:
			return reach(inspectBody(e.Body), map[string]bool{})
		case *ast.CallExpr:
			f := handlerFacts(e.Fun)
			for _, a := range e.Args {
				f = f.or(handlerFacts(a))
			}
			return f
		}
		return fnFacts{}
	}

	var routes []route
	for _, r := range regs {
		method, path, ok := strings.Cut(r.pattern, " ")
		if !ok {
			if r.pattern == "/api/" {
				continue // the fallback: 404 for every unknown API route
			}
			t.Errorf("%s: route %q names no method; the document cannot say which it answers", r.where, r.pattern)
			continue
		}
		routes = append(routes, route{key: method + " " + specPath(path), where: r.where, facts: handlerFacts(r.handler)})
	}
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in the source; is the test reading the right files?", len(routes))
	}
	return routes
}

// specPath is a ServeMux path as OpenAPI spells it: {name...} is
// {name}, a trailing {$} goes, and a subtree pattern /p/ is /p/{path}.
func specPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	p = regexp.MustCompile(`\{(\w+)\.\.\.\}`).ReplaceAllString(p, "{$1}")
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p += "{path}"
	}
	return p
}

func TestOpenAPIDescribesEveryRouteAndNoOther(t *testing.T) {
	doc := openAPIDoc(t)
	ops := specOps(t, doc)
	served := map[string]bool{}
	for _, r := range serverRoutes(t) {
		if served[r.key] {
			t.Errorf("%s: %s is registered twice", r.where, r.key)
		}
		served[r.key] = true
		if ops[r.key] == nil {
			t.Errorf("%s: %s is served but not in the OpenAPI document", r.where, r.key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		if !served[key] {
			t.Errorf("the OpenAPI document has %s, which the server does not serve", key)
		}
	}
}

func TestOpenAPIPathParametersMatchThePaths(t *testing.T) {
	ops := specOps(t, openAPIDoc(t))
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		op := ops[key]
		_, path, _ := strings.Cut(key, " ")
		var inPath []string
		for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
			inPath = append(inPath, m[1])
		}
		var declared []string
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			p := p.(map[string]any)
			if p["in"] == "path" {
				declared = append(declared, p["name"].(string))
				if p["required"] != true {
					t.Errorf("%s: path parameter %v is not required", key, p["name"])
				}
			}
			if _, ok := p["schema"].(map[string]any); !ok {
				t.Errorf("%s: parameter %v has no schema", key, p["name"])
			}
		}
		sort.Strings(inPath)
		sort.Strings(declared)
		if !slices.Equal(inPath, declared) {
			t.Errorf("%s: path parameters %v, the path has %v", key, declared, inPath)
		}
	}
}

func TestOpenAPIRequestBodiesMatchTheHandlersTypes(t *testing.T) {
	doc := openAPIDoc(t)
	ops := specOps(t, doc)
	decodes := map[string]bool{}
	for _, r := range serverRoutes(t) {
		decodes[r.key] = r.facts.decodesJSON
		_, typed := requestTypes[r.key]
		switch {
		case r.facts.decodesJSON && !typed:
			t.Errorf("%s: %s decodes a JSON body; add its Go type to requestTypes", r.where, r.key)
		case !r.facts.decodesJSON && typed:
			t.Errorf("%s: %s decodes no JSON body, but requestTypes names a type for it", r.where, r.key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(requestTypes)) {
		if _, ok := decodes[key]; !ok {
			t.Errorf("requestTypes names %s, which the server does not serve", key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		op := ops[key]
		typ, typed := requestTypes[key]
		body, hasBody := op["requestBody"].(map[string]any)
		switch {
		case typed && !hasBody:
			t.Errorf("%s decodes a JSON body, which the OpenAPI document does not describe", key)
			continue
		case !typed && hasBody:
			t.Errorf("the OpenAPI document gives %s a request body, which the handler never decodes", key)
			continue
		case !typed:
			continue
		}
		schema, _ := digMap(body, "content", "application/json", "schema")
		if schema == nil {
			t.Errorf("%s: the request body has no application/json schema", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			checkSchema(t, doc, key+" request", schema, reflect.TypeOf(typ))
		})
	}
}

func TestOpenAPIResponsesMatchTheHandlersTypes(t *testing.T) {
	doc := openAPIDoc(t)
	ops := specOps(t, doc)
	for _, key := range slices.Sorted(maps.Keys(responseTypes)) {
		typ := responseTypes[key]
		i := strings.LastIndex(key, " ")
		route, status := key[:i], key[i+1:]
		op := ops[route]
		if op == nil {
			t.Errorf("responseTypes names %s, which is not in the document", route)
			continue
		}
		schema, _ := digMap(op, "responses", status, "content", "application/json", "schema")
		if schema == nil {
			t.Errorf("%s: no application/json schema for the %s answer", route, status)
			continue
		}
		t.Run(key, func(t *testing.T) { checkSchema(t, doc, key, schema, reflect.TypeOf(typ)) })
	}
	errSchema, _ := digMap(doc, "components", "schemas", "Error")
	if errSchema == nil {
		t.Fatal("the document has no Error schema")
	}
	checkSchema(t, doc, "Error", errSchema, reflect.TypeOf(apiError{}))
}

// The answers of a source update carry password_set, and password_note
// when the update dropped the stored password.
func TestOpenAPISourceUpdateSaysWhetherThePasswordIsKept(t *testing.T) {
	doc := openAPIDoc(t)
	op := specOps(t, doc)["PUT /api/v1/sources/{id}"]
	schema, _ := digMap(op, "responses", "200", "content", "application/json", "schema")
	schema = resolve(t, doc, schema)
	props, _ := schema["properties"].(map[string]any)
	for _, name := range []string{"password_set", "password_note"} {
		if props[name] == nil {
			t.Errorf("PUT /api/v1/sources/{id} answers without %s in the document", name)
		}
	}
}

// Every route that can answer 429 documents it, with Retry-After when
// the handler sends it; sign-ins and identify must.
func TestOpenAPITooManyAnswersDocumentRetryAfter(t *testing.T) {
	ops := specOps(t, openAPIDoc(t))
	facts := map[string]fnFacts{}
	for _, r := range serverRoutes(t) {
		facts[r.key] = r.facts
	}
	for _, key := range []string{"POST /api/v1/identify", "POST /api/v1/login"} {
		if !facts[key].retryAfter {
			t.Errorf("%s: the test no longer sees its handler send Retry-After", key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(facts)) {
		f, op := facts[key], ops[key]
		if op == nil || !f.tooMany {
			continue
		}
		answer, _ := digMap(op, "responses", "429")
		if answer == nil {
			t.Errorf("%s can answer 429; the document does not say so", key)
			continue
		}
		_, documented := digMap(answer, "headers", "Retry-After")
		if f.retryAfter && !documented {
			t.Errorf("%s answers 429 with Retry-After; the document leaves the header out", key)
		}
		if !f.retryAfter && documented {
			t.Errorf("%s: the document promises Retry-After on 429, which the handler does not send", key)
		}
	}
}

// digMap follows keys through nested objects.
func digMap(m map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}

// resolve follows a $ref to the components.
func resolve(t *testing.T, doc, schema map[string]any) map[string]any {
	t.Helper()
	ref, ok := schema["$ref"].(string)
	if !ok {
		return schema
	}
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	target, found := digMap(doc, "components", "schemas", name)
	if !ok || !found {
		t.Fatalf("$ref %s leads nowhere", ref)
	}
	return target
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// jsonType is the JSON Schema type encoding/json gives t's values.
func jsonType(t *testing.T, typ reflect.Type) string {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == reflect.TypeFor[time.Time](),
		typ.Implements(textMarshaler) || reflect.PointerTo(typ).Implements(textMarshaler):
		return "string"
	case typ.Implements(jsonMarshaler) || reflect.PointerTo(typ).Implements(jsonMarshaler):
		t.Fatalf("%s marshals itself; teach jsonType its JSON type", typ)
	}
	switch typ.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if typ.Elem().Kind() == reflect.Uint8 {
			return "string" // base64
		}
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Interface:
		return ""
	}
	t.Fatalf("%s has no JSON type", typ)
	return ""
}

// jsonField is one member of a struct's JSON object.
type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the members encoding/json gives a struct: json tag
// names, embedded structs flattened, "-" and unexported fields left out.
func jsonFields(typ reflect.Type) []jsonField {
	var out []jsonField
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && f.Tag.Get("json") == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, jsonFields(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, f.Type})
	}
	return out
}

// checkSchema compares a schema with a Go type: its JSON type, and for a
// struct the property names and, in turn, each property's schema.
func checkSchema(t *testing.T, doc map[string]any, where string, schema map[string]any, typ reflect.Type) {
	t.Helper()
	schema = resolve(t, doc, schema)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := jsonType(t, typ)
	if want == "" {
		return // any value
	}
	if got, _ := schema["type"].(string); got != want {
		t.Errorf("%s: the document says %q, the Go type %s is %q", where, got, typ, want)
		return
	}
	switch want {
	case "array":
		items, ok := schema["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: an array without items", where)
			return
		}
		checkSchema(t, doc, where+"[]", items, typ.Elem())
	case "object":
		if typ.Kind() == reflect.Map {
			if extra, ok := schema["additionalProperties"].(map[string]any); ok {
				checkSchema(t, doc, where+"{}", extra, typ.Elem())
			}
			return
		}
		props, _ := schema["properties"].(map[string]any)
		fields := jsonFields(typ)
		var names []string
		for _, f := range fields {
			names = append(names, f.name)
			p, ok := props[f.name].(map[string]any)
			if !ok {
				t.Errorf("%s: %s's field %q is not in the document", where, typ, f.name)
				continue
			}
			checkSchema(t, doc, where+"."+f.name, p, f.typ)
		}
		for name := range props {
			if !slices.Contains(names, name) {
				t.Errorf("%s: the document has %q, which %s lacks", where, name, typ)
			}
		}
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if !slices.Contains(names, r.(string)) {
				t.Errorf("%s: %q is required but %s lacks it", where, r, typ)
			}
		}
	}
}
