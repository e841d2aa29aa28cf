package storetest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// A bulk generation writes a batch of first codes in one transaction: a
// user gets the code only while it has none (a code from a sync or an
// admin between the read and the write stays), a code another user has
// is refused, and a user deleted meanwhile is passed over.
func testSetFirstPrintCodeHashes(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	other, err := db.SourceID(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	alice := NewUser("alice")
	alice.PrintCodeHash = "hash-a" // from the directory
	gone := NewUser("gone")
	Create(t, db, corp, alice, NewUser("bob"), NewUser("carol"), NewUser("dave"), NewUser("erin"), NewUser("frank"), gone)
	olga := NewUser("olga")
	olga.PrintCodeHash, olga.Disabled, olga.DisabledReason = "hash-o", true, roster.DisabledByAdmin
	Create(t, db, other, olga)

	// The read: every user but alice has no code.
	without, err := db.UsersWithoutPrintCode(ctx, corp)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	for i, u := range without {
		id[u.Login] = u.ID
		// By ID, with what a bulk generation shows: its batches then
		// write the table part after part.
		if i > 0 && u.ID <= without[i-1].ID {
			t.Errorf("users without a code: %s (ID %d) after ID %d; want them by ID", u.Login, u.ID, without[i-1].ID)
		}
		if u.Name != "User "+u.Login || u.Email != u.Login+"@corp.test" || u.SourceID != corp {
			t.Errorf("user without a code: %+v; want its name, email and source", u)
		}
	}
	if len(id) != 6 || id["alice"] != 0 {
		t.Fatalf("users without a code: %v; want the six without one", id)
	}

	// Meanwhile, an admin gives dave a code, a sync gives erin one, and
	// gone is deleted.
	if err := db.SetPrintCodeHash(ctx, id["dave"], "hash-admin"); err != nil {
		t.Fatal(err)
	}
	erin := *Stored(t, db, corp, "anchor-erin")
	erin.PrintCodeHash = "hash-sync"
	MustApply(t, db, corp, roster.Change{Kind: roster.Update, Login: erin.Login, DN: erin.DN, User: &erin})
	MustApply(t, db, corp, roster.Change{Kind: roster.Delete, Login: gone.Login, DN: gone.DN, User: gone})

	t.Run("codes already in use are reported taken, in one query", func(t *testing.T) {
		taken, err := db.PrintCodeHashesTaken(ctx, []string{"hash-a", "hash-o", "hash-admin", "hash-free", ""})
		want := map[string]bool{"hash-a": true, "hash-o": true, "hash-admin": true}
		if err != nil || !maps.Equal(taken, want) {
			t.Fatalf("PrintCodeHashesTaken = %v, %v; want %v (disabled users and other sources count)", taken, err, want)
		}
		if taken, err := db.PrintCodeHashesTaken(ctx, nil); err != nil || len(taken) != 0 {
			t.Fatalf("PrintCodeHashesTaken(nil) = %v, %v", taken, err)
		}
	})

	t.Run("a batch that lists a user or a code twice, or an empty code, sets nothing", func(t *testing.T) {
		for name, codes := range map[string][]roster.FirstPrintCode{
			"a user twice":  {{UserID: id["bob"], Hash: "hash-b"}, {UserID: id["bob"], Hash: "hash-b2"}},
			"a code twice":  {{UserID: id["bob"], Hash: "hash-b"}, {UserID: id["carol"], Hash: "hash-b"}},
			"an empty code": {{UserID: id["bob"], Hash: "hash-b"}, {UserID: id["carol"], Hash: ""}},
		} {
			_, err := db.SetFirstPrintCodeHashes(ctx, codes)
			if roster.ErrorCode(err) != roster.EINVALID {
				t.Errorf("%s: error %v, want EINVALID", name, err)
			}
		}
		if u := Stored(t, db, corp, "anchor-bob"); u.PrintCodeHash != "" {
			t.Fatalf("bob has the code %q after refused batches", u.PrintCodeHash)
		}
		if got, err := db.SetFirstPrintCodeHashes(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("an empty batch = %v, %v", got, err)
		}
	})

	t.Run("codes are set only on users who still have none, and never twice", func(t *testing.T) {
		codes := []roster.FirstPrintCode{
			{UserID: id["bob"], Hash: "hash-b"},
			{UserID: id["carol"], Hash: "hash-a"},     // alice's
			{UserID: id["dave"], Hash: "hash-d"},      // the admin gave one meanwhile
			{UserID: id["erin"], Hash: "hash-e"},      // the sync gave one meanwhile
			{UserID: id["frank"], Hash: "hash-admin"}, // the admin's code for dave
			{UserID: id["gone"], Hash: "hash-g"},      // deleted meanwhile
		}
		got, err := db.SetFirstPrintCodeHashes(ctx, codes)
		want := []roster.FirstCodeResult{roster.FirstCodeSet, roster.FirstCodeTaken, roster.FirstCodeKept,
			roster.FirstCodeKept, roster.FirstCodeTaken, roster.FirstCodeNoUser}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("SetFirstPrintCodeHashes = %v, %v; want %v", got, err, want)
		}
		for login, hash := range map[string]string{"alice": "hash-a", "bob": "hash-b", "carol": "", "dave": "hash-admin", "erin": "hash-sync", "frank": ""} {
			if u := Stored(t, db, corp, "anchor-"+login); u.PrintCodeHash != hash {
				t.Errorf("%s's code hash = %q, want %q", login, u.PrintCodeHash, hash)
			}
		}
		// The same code for bob again: he keeps the one he has.
		if got, err := db.SetFirstPrintCodeHashes(ctx, []roster.FirstPrintCode{{UserID: id["bob"], Hash: "hash-b"}}); err != nil || got[0] != roster.FirstCodeKept {
			t.Fatalf("bob's own code again = %v, %v; want kept", got, err)
		}
	})

	t.Run("a batch longer than one statement's list is written whole", func(t *testing.T) {
		const n = 1200 // more than a statement binds, one value at a time
		var users []*roster.User
		for i := range n {
			users = append(users, NewUser(fmt.Sprintf("many%04d", i)))
		}
		Create(t, db, corp, users...)
		codes := make([]roster.FirstPrintCode, n)
		for i, u := range users {
			codes[i] = roster.FirstPrintCode{UserID: u.ID, Hash: fmt.Sprintf("hash-many-%d", i)}
		}
		codes[700].Hash = "hash-b" // bob's, in a later part of the batch
		got, err := db.SetFirstPrintCodeHashes(ctx, codes)
		if err != nil || len(got) != n {
			t.Fatalf("SetFirstPrintCodeHashes(%d) = %d results, %v", n, len(got), err)
		}
		for i, r := range got {
			if want := map[bool]roster.FirstCodeResult{true: roster.FirstCodeTaken, false: roster.FirstCodeSet}[i == 700]; r != want {
				t.Fatalf("code %d: %v, want %v", i, r, want)
			}
		}
		if u := Stored(t, db, corp, "anchor-many1199"); u.PrintCodeHash != "hash-many-1199" {
			t.Fatalf("the last user's code hash = %q", u.PrintCodeHash)
		}
	})
}

// roster.AssignFirstPrintCodes on a real store: every user without a code
// gets one, a batch a transaction, all different from each other and
// from the codes users had.
func testAssignFirstPrintCodes(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	hash := codeHasher()
	n := roster.PrintCodeBatch + roster.PrintCodeBatch/2
	var users []*roster.User
	for i := range n {
		users = append(users, NewUser(fmt.Sprintf("user%04d", i)))
	}
	users[3].PrintCodeHash = hash("830174")
	Create(t, db, corp, users...)
	without, err := db.UsersWithoutPrintCode(ctx, corp)
	if err != nil || len(without) != n-1 {
		t.Fatalf("%d users without a code, %v; want %d", len(without), err, n-1)
	}
	var batches []int
	codes := map[string]string{"830174": "user0003"}
	skipped, err := roster.AssignFirstPrintCodes(ctx, db, hash, without, 6, func(set []roster.IssuedPrintCode) error {
		batches = append(batches, len(set))
		for _, c := range set {
			if codes[c.Code] != "" {
				t.Errorf("%s and %s both got %s", codes[c.Code], c.User.Login, c.Code)
			}
			codes[c.Code] = c.User.Login
		}
		return nil
	})
	if err != nil || len(skipped) != 0 {
		t.Fatalf("AssignFirstPrintCodes: skipped %d, %v", len(skipped), err)
	}
	if want := []int{roster.PrintCodeBatch, n - 1 - roster.PrintCodeBatch}; !slices.Equal(batches, want) {
		t.Errorf("batches of %v codes, want %v", batches, want)
	}
	for code, login := range codes {
		us, err := db.UsersByPrintCodeHash(ctx, hash(code))
		if err != nil || len(us) != 1 || us[0].Login != login {
			t.Fatalf("the code of %s finds %v, %v", login, us, err)
		}
	}
	if again, _ := db.UsersWithoutPrintCode(ctx, corp); len(again) != 0 {
		t.Fatalf("%d users still without a code", len(again))
	}
}

// codeHasher keys codes as roster does (HMAC-SHA-256), with a test key.
func codeHasher() func(string) string {
	return func(code string) string {
		m := hmac.New(sha256.New, []byte("storetest print-code key"))
		m.Write([]byte(code))
		return hex.EncodeToString(m.Sum(nil))
	}
}

// BenchBulkPrintCodes gives 10,000 users of a fresh store a print code
// each: "batched" as the API, the console and the CLI do
// (roster.AssignFirstPrintCodes), and, for comparison, "per user", one
// check and one transaction a user, as roster did before. One iteration
// is the 10,000 users; the store is filled anew, outside the timer.
func BenchBulkPrintCodes(b *testing.B, o Opener) {
	const users = 10000
	hash := codeHasher()
	for _, way := range []struct {
		name  string
		batch int // users a call to AssignFirstPrintCodes
	}{
		{"batched", users},
		{"per user", 1},
	} {
		b.Run(way.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				db, without := fillWithoutCodes(b, o, users)
				b.StartTimer()
				set := 0
				for chunk := range slices.Chunk(without, way.batch) {
					if _, err := roster.AssignFirstPrintCodes(ctx, db, hash, chunk, roster.DefaultPrintCodeLength, func(c []roster.IssuedPrintCode) error {
						set += len(c)
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
				if set != users {
					b.Fatalf("%d codes set, want %d", set, users)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/10k-users")
			b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

// fillWithoutCodes opens a store with n users without a print code, and
// returns them as a bulk generation reads them.
func fillWithoutCodes(b *testing.B, o Opener, n int) (*sqlstore.DB, []*roster.User) {
	ctx := context.Background()
	db, _ := o(b)
	source, err := db.SourceID(ctx, "corp")
	if err != nil {
		b.Fatal(err)
	}
	var changes []roster.Change
	for i := range n {
		u := NewUser(fmt.Sprintf("user%07d", i))
		changes = append(changes, roster.Change{Kind: roster.Create, Login: u.Login, User: u})
	}
	if _, err := db.Apply(ctx, source, changes); err != nil {
		b.Fatal(err)
	}
	without, err := db.UsersWithoutPrintCode(ctx, source)
	if err != nil || len(without) != n {
		b.Fatalf("%d users without a code, %v; want %d", len(without), err, n)
	}
	return db, without
}
