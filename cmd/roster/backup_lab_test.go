package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/datadir"
	"github.com/rosterhq/roster/lab/labenv"
	"github.com/rosterhq/roster/sqlstore"
)

// A backup taken while roster serve runs a sync, restored into a new
// data folder (and a new PostgreSQL database), holds every user, card and
// print code of the lab, each code still verifying with the restored key,
// the codes and cards roster made, and the source's stored bind password,
// which the restored secret key opens.
func TestBackupTakenMidSyncRestoresEverything(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) { testBackupMidSync(t, store) })
	}
}

func testBackupMidSync(t *testing.T, store string) {
	env := labenv.Require(t)
	const adminPW, passphrase = "Backup-Admin-Password-1", "a passphrase kept apart"
	data, file := t.TempDir(), filepath.Join(t.TempDir(), "roster.backup")
	serveEnv, db := map[string]string{"ROSTER_ADMIN_PASSWORD": adminPW}, ""
	if store == "postgres" {
		db = env.PostgresDatabase(t)
		serveEnv["ROSTER_DB"] = db
	}
	var logs lockedBuffer
	url, _, stop := serveLogged(t, serveEnv, data, &logs)
	defer stop()
	a := signIn(t, url, adminPW)
	id := fmt.Sprint(createSlowSource(t, env, a, "corp", 20*time.Millisecond, nil))

	// A first full sync, to its end.
	if _, events := a.syncToEnd(id, ""); !strings.Contains(events, `"status":"succeeded"`) {
		t.Fatalf("the first sync did not succeed:\n%s", events)
	}
	// What roster makes itself: a print code and a card by hand, for a
	// person whose directory entry has no print code.
	lab := env.Data(t, labenv.AD)
	chosen := ""
	for _, u := range lab.Users {
		if u.PrintCode == "" && !u.Disabled && !u.Service {
			chosen = u.Login
			break
		}
	}
	if chosen == "" {
		t.Fatal("the lab has no enabled person without a print code")
	}
	code, body := a.call("POST", "/api/v1/users/"+chosen+"/print-code", map[string]int{"length": 6})
	made, _ := body["code"].(string)
	if code != 200 || made == "" {
		t.Fatalf("a print code for %s = %d %v", chosen, code, body)
	}
	if code, body = a.call("POST", "/api/v1/users/"+chosen+"/cards", map[string]string{"number": "BACKUP-CARD-1", "kind": "secondary"}); code != 201 && code != 200 {
		t.Fatalf("a card by hand = %d %v", code, body)
	}

	// The backup, while a second sync reads the directory.
	runID, _ := startSlowSync(t, a, id)
	cliEnv := map[string]string{"ROSTER_BACKUP_PASSPHRASE": passphrase, "ROSTER_DB": db}
	if code, out, errOut := runCLI(t, cliEnv, "backup", "-data", data, file); code != exitOK {
		t.Fatalf("roster backup = %d\n%s%s", code, out, errOut)
	}
	// startSlowSync returned once the sync had read entries and was not
	// done: the backup's read began while the sync ran. Whether the sync
	// ends before the copy is written depends on the machine's speed,
	// which a test must not bet on.
	if _, p := a.call("GET", "/api/v1/runs/"+runID+"/progress", nil); p["done"] != false {
		t.Logf("the sync ended while the backup was written: %v", p)
	}
	if code, _, errOut := runCLI(t, cliEnv, "backup", "-data", data, file); code == exitOK || !strings.Contains(errOut, "exists already") {
		t.Fatalf("a second backup onto the same file = %d %s; want a refusal", code, errOut)
	}
	a.events(runID)
	stop()

	// A live data folder is never overwritten.
	if code, _, errOut := runCLI(t, cliEnv, "restore", "-data", data, file); code == exitOK || !strings.Contains(errOut, "never overwrites") {
		t.Fatalf("a restore onto the live data folder = %d %s; want a refusal", code, errOut)
	}
	// A wrong passphrase opens nothing, and leaves nothing behind.
	wrong := t.TempDir()
	if code, _, errOut := runCLI(t, map[string]string{"ROSTER_BACKUP_PASSPHRASE": "not the passphrase"}, "restore", "-data", wrong, file); code == exitOK || !strings.Contains(errOut, "passphrase does not open") {
		t.Fatalf("a restore with a wrong passphrase = %d %s", code, errOut)
	}
	if left, _ := os.ReadDir(wrong); len(left) != 0 {
		t.Fatalf("a refused restore left %v", left)
	}

	restored, restoredDB := t.TempDir(), ""
	if store == "postgres" {
		restoredDB = env.PostgresDatabase(t)
	}
	code, out, errOut := runCLI(t, map[string]string{"ROSTER_BACKUP_PASSPHRASE": passphrase, "ROSTER_DB": restoredDB}, "restore", "-data", restored, file)
	if code != exitOK {
		t.Fatalf("roster restore = %d\n%s%s", code, out, errOut)
	}
	t.Log(strings.TrimSpace(out))
	checkRestored(t, env, restored, restoredDB, id, chosen, made)
}

// checkRestored opens the restored user base with the restored keys and
// checks it against the lab.
func checkRestored(t *testing.T, env *labenv.Env, dir, dbURL, sourceID, chosen, made string) {
	ctx := context.Background()
	a := &app{getenv: func(k string) string {
		if k == "ROSTER_DB" {
			return dbURL
		}
		return ""
	}}
	db := sealedStore(t, a, dir)
	hash, err := datadir.PrintCodeHasher(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	lab := env.Data(t, labenv.AD)
	users, total, err := db.FindUsers(ctx, sqlstore.UserFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(lab.Users) {
		t.Errorf("the restored user base has %d users; the lab has %d", total, len(lab.Users))
	}
	byLogin := map[string]int{}
	for i, u := range users {
		byLogin[u.Login] = i
	}
	codes, cards := 0, 0
	for _, want := range lab.Users {
		i, ok := byLogin[want.Login]
		if !ok {
			t.Errorf("%s is missing", want.Login)
			continue
		}
		u := users[i]
		for _, c := range want.Cards {
			found := false
			for _, have := range u.Cards {
				found = found || have.Number == c
			}
			if !found {
				t.Errorf("%s lacks the card %s (has %v)", u.Login, c, u.Cards)
			}
			cards++
		}
		if want.PrintCode != "" {
			if u.PrintCodeHash != hash(want.PrintCode) {
				t.Errorf("the print code of %s does not verify with the restored key", u.Login)
			}
			codes++
		}
	}
	u := users[byLogin[chosen]]
	if u.PrintCodeHash != hash(made) {
		t.Errorf("the print code roster made for %s does not verify after the restore", chosen)
	}
	hand := false
	for _, c := range u.Cards {
		hand = hand || c.Number == "BACKUP-CARD-1"
	}
	if !hand {
		t.Errorf("the card added by hand to %s is missing: %v", chosen, u.Cards)
	}
	var id int64
	fmt.Sscan(sourceID, &id)
	src, err := db.Source(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if src.Password.Reveal() != env.Get("LAB_BIND_PASSWORD") {
		t.Error("the restored secret key does not open the stored bind password")
	}
	if codes == 0 || cards == 0 {
		t.Fatalf("the lab has %d codes and %d cards: nothing was checked", codes, cards)
	}
}
