package sqlstore

import (
	"reflect"
	"testing"
)

// in passes a list as one JSON text where the database reads one (and as
// one array where it takes arrays),
// and falls back to placeholders for what JSON would change (text that is
// not UTF-8) or cannot carry.
func TestInTakesJSONOnlyWhereItIsExact(t *testing.T) {
	json := Dialect{JSONLists: true}
	cond, args := json.in("anchor", []any{`a"b`, "ü", int64(7)})
	if cond != "anchor IN (SELECT value FROM json_each(?))" || !reflect.DeepEqual(args, []any{`["a\"b","ü",7]`}) {
		t.Errorf("valid values: %s %v", cond, args)
	}
	for _, vals := range [][]any{{"ok", "bad\xff"}, {"ok", 1.5}} {
		cond, args = json.in("anchor", vals)
		if cond != "anchor IN (?, ?)" || !reflect.DeepEqual(args, vals) {
			t.Errorf("%q: %s %v, want placeholders", vals, cond, args)
		}
	}
	arrays := Dialect{Arrays: true}
	cond, args = arrays.in("anchor", []any{"a", "b\xff"})
	if cond != "anchor = ANY(?)" || !reflect.DeepEqual(args, []any{[]string{"a", "b\xff"}}) {
		t.Errorf("with arrays: %s %v", cond, args)
	}
	plain := Dialect{}
	cond, args = plain.in("login", []any{"a", "b"})
	if cond != "login IN (?, ?)" || len(args) != 2 {
		t.Errorf("without JSON lists: %s %v", cond, args)
	}
}
