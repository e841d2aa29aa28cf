package roster_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rosterhq/roster"
)

// The password must not leak through any of the usual ways a value ends
// up in text: fmt verbs, JSON, structured logs.
func TestSecretNeverPrints(t *testing.T) {
	const pw = "Hunter2-very-secret"
	src := roster.Source{Login: "svc", Password: pw}

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("source", "src", src, "pw", src.Password)
	js, err := json.Marshal(src)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", src),
		"%+v":  fmt.Sprintf("%+v", src),
		"%#v":  fmt.Sprintf("%#v", src),
		"%s":   fmt.Sprintf("%s", src.Password),
		"json": string(js),
		"slog": logs.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("%s output reveals the password: %s", how, out)
		}
	}
	if src.Password.Reveal() != pw {
		t.Fatalf("Reveal() = %q, want the password", src.Password.Reveal())
	}
}

func TestSecretRefusesItsOwnMask(t *testing.T) {
	var src struct{ Password roster.Secret }
	if err := json.Unmarshal([]byte(`{"Password":"[redacted]"}`), &src); err == nil {
		t.Fatal("a masked value was accepted as a password")
	}
	if err := json.Unmarshal([]byte(`{"Password":"s3cret"}`), &src); err != nil || src.Password.Reveal() != "s3cret" {
		t.Fatalf("Unmarshal = %v, password %q", err, src.Password.Reveal())
	}
}
