package http

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rosterhq/roster"
)

// The console is rendered on the server with html/template; a small
// script (static/roster.js) sends its forms to the JSON API. No build
// step, nothing fetched from elsewhere.
//
//go:embed console/*.html console/static/*
var consoleFS embed.FS

var pages = map[string]*template.Template{}

func init() {
	for _, p := range []string{"login", "sources", "source", "runs", "run", "users", "user", "groups", "settings", "certificates", "cards"} {
		pages[p] = template.Must(template.New("").ParseFS(consoleFS, "console/layout.html", "console/"+p+".html"))
	}
}

type banner struct{ Level, Text string }

// page is what every console page gets.
type page struct {
	Title   string
	Admin   string
	CSRF    string
	Banners []banner
}

func (s *Server) consoleRoutes(m *http.ServeMux) {
	static, _ := fs.Sub(consoleFS, "console/static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/console", http.StatusSeeOther) })
	m.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, "login", page{Title: "Sign in"}, nil)
	})
	m.HandleFunc("GET /console", s.console(s.sourcesPage))
	m.HandleFunc("GET /console/sources/new", s.console(s.sourcePage))
	m.HandleFunc("GET /console/sources/{id}", s.console(s.sourcePage))
	m.HandleFunc("GET /console/runs", s.console(s.runsPage))
	m.HandleFunc("GET /console/runs/{id}", s.console(s.runPage))
	m.HandleFunc("GET /console/users", s.console(s.usersPage))
	m.HandleFunc("GET /console/users/{login}", s.console(s.userPage))
	m.HandleFunc("GET /console/groups", s.console(s.groupsPage))
	m.HandleFunc("GET /console/cards", s.console(s.cardsPage))
	m.HandleFunc("GET /console/settings", s.console(s.settingsPage))
	m.HandleFunc("GET /console/certificates", s.console(func(w http.ResponseWriter, r *http.Request, p page) {
		p.Title = "Certificates"
		s.render(w, r, "certificates", p, nil)
	}))
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request, p page) {
	groups, err := s.users.Groups(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.Title = "Groups"
	s.render(w, r, "groups", p, map[string]any{"Groups": groups})
}

// cardsPage is the card test bench, with each source's transform to
// start from.
func (s *Server) cardsPage(w http.ResponseWriter, r *http.Request, p page) {
	sources, err := s.Sources.Sources(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type named struct {
		Name  string
		Steps string // one per line, as the form takes them
	}
	var list []named
	for _, src := range sources {
		var lines []string
		for _, st := range src.Mapping.CardTransforms {
			lines = append(lines, st.String())
		}
		list = append(list, named{src.Name, strings.Join(lines, "\n")})
	}
	p.Title = "Card test bench"
	s.render(w, r, "cards", p, map[string]any{"Sources": list, "Ops": roster.CardOps})
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, p page) {
	tokens, err := s.auth.Tokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p.Title = "Settings"
	s.render(w, r, "settings", p, map[string]any{"Tokens": tokens})
}

// console admits a signed-in admin (a session cookie, never a token) and
// sends anyone else to the sign-in page.
func (s *Server) console(h func(http.ResponseWriter, *http.Request, page)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Authorization")
		p, err := s.authenticate(r)
		if err != nil || p.admin == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r, page{Admin: p.admin.Name, CSRF: p.csrf, Banners: s.banners(r)})
	}
}

// banners warns on every page: a source whose last sync failed, and a
// source with TLS or its verification turned off.
func (s *Server) banners(r *http.Request) []banner {
	var out []banner
	sources, err := s.Sources.Sources(r.Context())
	if err != nil {
		return nil
	}
	out = append(out, s.guessingBanners(r)...)
	last, lastFull := s.latestRuns(r, sources)
	for _, src := range sources {
		for _, w := range src.Warnings() {
			out = append(out, banner{"warning", src.Name + ": " + w})
		}
		if w := roster.DirectoryCertificateWarning(src.Type, src.CertificateNotAfter, s.Now()); w != "" {
			out = append(out, banner{"danger", src.Name + ": " + w + "; roster can make one under Certificates"})
		}
		if run := last[src.ID]; run != nil && run.Status == roster.RunFailed {
			out = append(out, banner{"danger", fmt.Sprintf("%s: the last sync failed: %s", src.Name, run.Error)})
		}
		// Incremental runs every few minutes must not hide what the last
		// full run left: only full runs find leavers, or hold them.
		full := lastFull[src.ID]
		if full != nil && full.Status == roster.RunFailed && full.ID != last[src.ID].ID {
			out = append(out, banner{"danger", fmt.Sprintf("%s: the last full sync (run %d) failed: %s; leavers are not removed until one succeeds", src.Name, full.ID, full.Error)})
		}
		for _, run := range []*roster.Run{last[src.ID], full} {
			if run != nil && run.Status == roster.RunHeld {
				what := fmt.Sprintf("%d removals", run.Held)
				if run.Held == 0 { // held for the groups alone
					what = "group and membership removals"
				}
				out = append(out, banner{"warning", fmt.Sprintf("%s: %s wait for approval (run %d)", src.Name, what, run.ID)})
				break
			}
		}
	}
	return out
}

// latestRuns is each source's latest sync (write-back records are not
// syncs) and latest full sync, however many runs came after it; a source
// whose runs cannot be read has none.
func (s *Server) latestRuns(r *http.Request, sources []*roster.Source) (last, full map[int64]*roster.Run) {
	last, full = map[int64]*roster.Run{}, map[int64]*roster.Run{}
	for _, src := range sources {
		if run, err := s.runs.LatestRun(r.Context(), src.ID, roster.RunFull, roster.RunIncremental); err == nil && run != nil {
			last[src.ID] = run
		}
		if run, err := s.runs.LatestRun(r.Context(), src.ID, roster.RunFull); err == nil && run != nil {
			full[src.ID] = run
		}
	}
	return last, full
}

// render writes a page with the security headers every page carries:
// scripts and styles from roster itself only, no framing, no referrer.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Title"], data["Admin"], data["CSRF"], data["Banners"] = p.Title, p.Admin, p.CSRF, p.Banners
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if err := pages[name].ExecuteTemplate(w, "layout", data); err != nil {
		s.Log.Error("rendering a page failed", "page", name, "err", err)
	}
}

func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request, p page) {
	sources, err := s.Sources.Sources(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	next := map[int64]roster.NextRuns{}
	for _, src := range sources {
		next[src.ID] = s.Syncer.NextRun(src.ID)
	}
	lastRuns, _ := s.latestRuns(r, sources)
	p.Title = "Directory sources"
	s.render(w, r, "sources", p, map[string]any{"Sources": sources, "LastRuns": lastRuns, "NextRuns": next})
}

func (s *Server) sourcePage(w http.ResponseWriter, r *http.Request, p page) {
	src := &roster.Source{Type: roster.EntraDS, TLSMode: roster.LDAPS}
	p.Title = "New directory source"
	if r.PathValue("id") != "" {
		id, err := s.pathID(r)
		if err == nil {
			src, err = s.Sources.Source(r.Context(), id)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p.Title = "Source " + src.Name
	}
	s.render(w, r, "source", p, map[string]any{"Source": src})
}

// chartBar is one run in the runs chart: height for duration, colour
// for the outcome.
type chartBar struct {
	ID                        int64
	X, Y, H                   int
	Seconds                   string
	Created, Updated, Removed int
	// The stacked bar of changed users.
	CreatedY, CreatedH, UpdatedY, UpdatedH, RemovedY, RemovedH int
	Status                                                     roster.RunStatus
}

// chartWidth fits 60 runs at 12 units each.
const chartWidth = 8 + 12*60

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request, p page) {
	runs, err := s.runs.Runs(r.Context(), 0, 100)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	longest, most := 0.001, 1
	for _, run := range runs {
		if d := run.FinishedAt.Sub(run.StartedAt).Seconds(); run.Done() && d > longest {
			longest = d
		}
		most = max(most, run.Created+run.Updated+run.Renamed+run.Disabled+run.Deleted)
	}
	var bars []chartBar
	n := min(len(runs), 60)
	for i := 0; i < n; i++ {
		run := runs[n-1-i] // oldest on the left
		d := 0.0
		if run.Done() {
			d = run.FinishedAt.Sub(run.StartedAt).Seconds()
		}
		h := max(2, int(110*d/longest))
		b := chartBar{ID: run.ID, X: 4 + 12*i, Y: 115 - h, H: h, Seconds: strconv.FormatFloat(d, 'f', 1, 64),
			Created: run.Created, Updated: run.Updated + run.Renamed, Removed: run.Disabled + run.Deleted, Status: run.Status}
		scale := func(n int) int { return 110 * n / most }
		b.CreatedH, b.UpdatedH, b.RemovedH = scale(b.Created), scale(b.Updated), scale(b.Removed)
		b.CreatedY = 115 - b.CreatedH
		b.UpdatedY = b.CreatedY - b.UpdatedH
		b.RemovedY = b.UpdatedY - b.RemovedH
		bars = append(bars, b)
	}
	p.Title = "Runs"
	s.render(w, r, "runs", p, map[string]any{"Runs": runs, "Chart": map[string]any{"Bars": bars, "Width": chartWidth,
		"Longest": strconv.FormatFloat(longest, 'f', 1, 64), "MostChanges": most}})
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request, p page) {
	id, err := s.pathID(r)
	var run *roster.Run
	if err == nil {
		run, err = s.runs.Run(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var held []*roster.User
	for i, id := range run.HeldUsers {
		if i == 500 {
			break // the count says how many more
		}
		if u, err := s.users.UserByID(r.Context(), id); err == nil {
			held = append(held, u)
		}
	}
	p.Title = fmt.Sprintf("Run %d", run.ID)
	s.render(w, r, "run", p, map[string]any{"Run": run, "Held": held})
}

const usersPerPage = 50

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, p page) {
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	f := roster.UserFilter{Query: strings.TrimSpace(q.Get("q")), Offset: max(0, offset), Limit: usersPerPage}
	state := q.Get("state")
	if state == "enabled" || state == "disabled" {
		d := state == "disabled"
		f.Disabled = &d
	}
	users, total, err := s.users.FindUsers(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	link := func(off int) string {
		v := url.Values{"q": {f.Query}, "state": {state}, "offset": {strconv.Itoa(off)}}
		return "/console/users?" + v.Encode()
	}
	data := map[string]any{"Users": users, "Total": total, "Query": f.Query, "State": state}
	if f.Offset > 0 {
		data["Prev"] = link(max(0, f.Offset-usersPerPage))
	}
	if f.Offset+len(users) < total {
		data["Next"] = link(f.Offset + usersPerPage)
	}
	p.Title = "Users"
	s.render(w, r, "users", p, data)
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, p page) {
	u, groups, err := s.userWithGroups(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	source := "made by hand in roster"
	if u.SourceID != 0 {
		source = fmt.Sprintf("source %d", u.SourceID)
		if src, err := s.Sources.Source(r.Context(), u.SourceID); err == nil {
			source = src.Name
		}
	}
	// The user's stored lockouts at terminals, for the admin to see and
	// clear.
	var locks []lockoutView
	for _, key := range []string{roster.CodeLockoutKey(u.ID), roster.PasswordLockoutKey(u.ID)} {
		if l, err := s.lockouts.Lockout(r.Context(), key); err == nil && (l.Failures > 0 || l.Locked(s.Now())) {
			locks = append(locks, s.view(l, false))
		}
	}
	p.Title = u.Name
	s.render(w, r, "user", p, map[string]any{"User": u, "Groups": groups, "Source": source, "Locks": locks})
}
