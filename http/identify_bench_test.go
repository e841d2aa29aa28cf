package http_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkIdentifyByCard is one terminal lookup by card through the
// whole handler (token check, lookup, groups, audit log, JSON), with no
// network: roster's own cost of a request bench/identify sends.
func BenchmarkIdentifyByCard(b *testing.B) {
	f := newFixture(b)
	admin := f.client()
	admin.signIn()
	term := f.terminal(admin)
	h := f.srv.Config.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/api/v1/identify", strings.NewReader(`{"card":"0001"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+term.bearer)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("identify = %d %s", rec.Code, rec.Body)
		}
	}
}
