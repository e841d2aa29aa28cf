package datadir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A secret setting comes from the environment, else the file its _FILE
// variable names, else the systemd credential; a trailing newline goes.
func TestSecretSetting(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "admin-password"), []byte("from-the-credential\n"), 0o600)
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("from-the-file\r\n"), 0o600)
	for _, tt := range []struct {
		env        map[string]string
		want, from string
	}{
		{map[string]string{"ROSTER_ADMIN_PASSWORD": "from-env", "ROSTER_ADMIN_PASSWORD_FILE": file, "CREDENTIALS_DIRECTORY": dir}, "from-env", "ROSTER_ADMIN_PASSWORD"},
		{map[string]string{"ROSTER_ADMIN_PASSWORD_FILE": file, "CREDENTIALS_DIRECTORY": dir}, "from-the-file", "ROSTER_ADMIN_PASSWORD_FILE"},
		{map[string]string{"CREDENTIALS_DIRECTORY": dir}, "from-the-credential", "systemd credential"},
		{map[string]string{"CREDENTIALS_DIRECTORY": t.TempDir()}, "", ""}, // the unit loads no such credential
		{map[string]string{}, "", ""},
	} {
		v, from, err := Setting(func(k string) string { return tt.env[k] }, "ROSTER_ADMIN_PASSWORD", "admin-password")
		if err != nil || v != tt.want || !strings.Contains(from, tt.from) {
			t.Errorf("%v: %q from %q, %v; want %q from %q", tt.env, v, from, err, tt.want, tt.from)
		}
	}
	getenv := func(k string) string {
		return map[string]string{"ROSTER_ADMIN_PASSWORD_FILE": filepath.Join(dir, "missing")}[k]
	}
	if _, _, err := Setting(getenv, "ROSTER_ADMIN_PASSWORD", "admin-password"); err == nil {
		t.Error("a _FILE that does not exist must be an error, not an empty password")
	}
}
