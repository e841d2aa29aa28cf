package pfx

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// The test vectors of RFC 2268, section 5.
func TestPFXRC2MatchesRFC2268(t *testing.T) {
	tests := []struct {
		key       string
		effective int
		plain     string
		cipher    string
	}{
		{"0000000000000000", 63, "0000000000000000", "ebb773f993278eff"},
		{"ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"},
		{"3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"},
		{"88", 64, "0000000000000000", "61a8a244adacccf0"},
		{"88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"},
		{"88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"},
		{"88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"},
	}
	for _, tt := range tests {
		key, _ := hex.DecodeString(tt.key)
		plain, _ := hex.DecodeString(tt.plain)
		want, _ := hex.DecodeString(tt.cipher)
		c, err := newRC2(key, tt.effective)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 8)
		c.Encrypt(got, plain)
		if !bytes.Equal(got, want) {
			t.Errorf("RC2 key %s (%d bits) encrypts to %x, want %s", tt.key, tt.effective, got, tt.cipher)
		}
		c.Decrypt(got, want)
		if !bytes.Equal(got, plain) {
			t.Errorf("RC2 key %s (%d bits) decrypts to %x, want %s", tt.key, tt.effective, got, tt.plain)
		}
	}
}

// A file's key derivations share one budget: many key bags, each within
// MaxIterations, cannot keep a CPU busy for hours.
func TestPFXKeyDerivationsShareOneBudget(t *testing.T) {
	der := readCorpus(t, "windows-rc2.pfx")
	var pdu pfxPDU
	var authSafe []byte
	if err := unmarshalAll(der, &pdu); err != nil {
		t.Fatal(err)
	}
	if err := unmarshalAll(pdu.AuthSafe.Content.Bytes, &authSafe); err != nil {
		t.Fatal(err)
	}
	pw := passwordForms("testcertificate")[0]
	// The file derives, 2,000 iterations a hash block, its key's
	// TripleDES key (2 blocks) and IV (1), and its certificates' RC2-40
	// key and IV (1 each).
	for _, tt := range []struct {
		budget int
		ok     bool
	}{{maxTotalIterations, true}, {5 * 2000, true}, {5*2000 - 1, false}} {
		budget := tt.budget
		pw.budget = &budget
		var o opened
		err := o.readAuthSafe(authSafe, pw)
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "iterations in all")) {
			t.Errorf("a budget of %d: %v", tt.budget, err)
		}
	}
	if err := (password{budget: new(int)}).spend(MaxIterations+1, 1); err == nil || !errors.Is(err, errUnsupported) {
		t.Errorf("one derivation over MaxIterations: %v", err)
	}
}
