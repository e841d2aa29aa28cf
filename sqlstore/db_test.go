package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	pg := &Dialect{Numbered: true}
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`WHERE a = ? AND b IN (?, ?)`, `WHERE a = $1 AND b IN ($2, $3)`},
		{`WHERE a LIKE ? ESCAPE '\' OR b LIKE ? ESCAPE '\'`, `WHERE a LIKE $1 ESCAPE '\' OR b LIKE $2 ESCAPE '\'`},
		{`WHERE s = 'why?' AND t = ?`, `WHERE s = 'why?' AND t = $1`},
		{`WHERE s = 'it''s?' AND t = ?`, `WHERE s = 'it''s?' AND t = $1`},
	}
	for _, tt := range tests {
		if got := pg.rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	lite := &Dialect{}
	if got := lite.rebind(`a = ?`); got != `a = ?` {
		t.Errorf("SQLite's query changed: %q", got)
	}
}
