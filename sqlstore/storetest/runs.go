package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster"
)

func testRunRoundTrip(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, source := open(t, o)

	run := &roster.Run{SourceID: source, Mode: roster.RunFull}
	if err := db.StartRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || run.Status != roster.RunRunning || !run.StartedAt.Equal(t0) {
		t.Fatalf("StartRun left %+v", run)
	}
	started, err := db.Run(ctx, run.ID)
	if err != nil || started.Status != roster.RunRunning || started.Done() {
		t.Fatalf("stored running run = %+v, %v", started, err)
	}

	t1 := t0.Add(2 * time.Minute)
	db.Now = func() time.Time { return t1 }
	run.Status = roster.RunHeld
	run.Seen, run.Created, run.Updated, run.Renamed = 100, 1, 2, 3
	run.Disabled, run.Reenabled, run.Deleted, run.Skipped, run.Failed, run.Held = 4, 5, 6, 7, 8, 12
	run.HeldGroups, run.HeldMemberships = 11, 7624
	run.Notes = []string{"removals held: 12 of 100"}
	run.EntryErrors = []roster.EntryError{
		{DN: "CN=x,DC=corp", Anchor: "a-x", Message: "no login"},
		{DN: "CN=y,DC=corp", Message: "two logins"},
	}
	run.HeldUsers = []int64{9, 3, 5}
	if err := db.FinishRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if !run.FinishedAt.Equal(t1) {
		t.Errorf("FinishRun set FinishedAt %v, want %v", run.FinishedAt, t1)
	}
	got, err := db.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *run
	want.HeldUsers = []int64{3, 5, 9}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("Run =\n\t%+v\nwant\n\t%+v", got, &want)
	}

	t.Run("finishing again replaces the details", func(t *testing.T) {
		run.Status, run.Error, run.Notes = roster.RunFailed, "the directory closed the connection", nil
		run.EntryErrors, run.HeldUsers = run.EntryErrors[:1], nil
		if err := db.FinishRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		got, err := db.Run(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != roster.RunFailed || got.Error != run.Error || got.Notes != nil || len(got.EntryErrors) != 1 || got.HeldUsers != nil {
			t.Errorf("after the second FinishRun: %+v", got)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := db.Run(ctx, 999)
		wantCode(t, err, roster.ENOTFOUND)
		wantCode(t, db.FinishRun(ctx, &roster.Run{ID: 999, Status: roster.RunSucceeded}), roster.ENOTFOUND)
		wantCode(t, db.FinishRun(ctx, &roster.Run{ID: run.ID, Status: roster.RunRunning}), roster.EINVALID)
	})
}

func testRuns(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	lab, _ := db.SourceID(ctx, "lab")
	var ids []int64
	for i, source := range []int64{corp, lab, corp, corp} {
		run := &roster.Run{SourceID: source, Mode: roster.RunIncremental, StartedAt: t0.Add(time.Duration(i) * time.Minute)}
		if err := db.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	tests := []struct {
		name   string
		source int64
		limit  int
		want   []int64
	}{
		{"every source, newest first", 0, 0, []int64{ids[3], ids[2], ids[1], ids[0]}},
		{"one source", corp, 0, []int64{ids[3], ids[2], ids[0]}},
		{"the newest two", corp, 2, []int64{ids[3], ids[2]}},
		{"a source without runs", 999, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, err := db.Runs(ctx, tt.source, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Runs = %v, want %v", got, tt.want)
			}
		})
	}
}

func testHeldRemovals(t *testing.T, o Opener) {
	type run struct {
		other          bool // a run of another source
		mode           roster.RunMode
		status         roster.RunStatus
		held           []int64
		groups, member int // group and membership removals held
	}
	// want is the hold expected: run is the 1-based index of the held
	// run in runs, 0 for none.
	type want struct {
		run            int
		users          []int64
		groups, member int
	}
	full, incr, prev := roster.RunFull, roster.RunIncremental, roster.RunPreview
	tests := []struct {
		name string
		runs []run
		want want
	}{
		{"no runs hold nothing", nil, want{}},
		{"a held run holds its users", []run{{mode: full, status: roster.RunHeld, held: []int64{7, 3}}}, want{1, []int64{3, 7}, 0, 0}},
		{"a held run holds its group and membership removals", []run{
			{mode: full, status: roster.RunHeld, groups: 11, member: 7624},
		}, want{1, nil, 11, 7624}},
		{"users and group removals of the same run", []run{
			{mode: full, status: roster.RunHeld, held: []int64{4}, groups: 2, member: 30},
		}, want{1, []int64{4}, 2, 30}},
		{"a later successful full run clears the hold", []run{
			{mode: full, status: roster.RunHeld, held: []int64{3}, groups: 1, member: 12},
			{mode: full, status: roster.RunSucceeded},
		}, want{}},
		{"a later successful incremental run does not", []run{
			{mode: full, status: roster.RunHeld, held: []int64{3}},
			{mode: incr, status: roster.RunSucceeded},
		}, want{1, []int64{3}, 0, 0}},
		{"a later successful preview does not", []run{
			{mode: full, status: roster.RunHeld, held: []int64{3}, member: 12},
			{mode: prev, status: roster.RunSucceeded},
		}, want{1, []int64{3}, 0, 12}},
		{"a later failed or running full run does not", []run{
			{mode: full, status: roster.RunHeld, held: []int64{3}},
			{mode: full, status: roster.RunFailed},
			{mode: full, status: roster.RunRunning},
		}, want{1, []int64{3}, 0, 0}},
		{"the latest hold wins, counts and users alike", []run{
			{mode: full, status: roster.RunHeld, held: []int64{1, 2}, groups: 12, member: 24},
			{mode: full, status: roster.RunHeld, held: []int64{3}},
		}, want{2, []int64{3}, 0, 0}},
		{"a hold after a cleared one counts", []run{
			{mode: full, status: roster.RunHeld, held: []int64{1}},
			{mode: full, status: roster.RunSucceeded},
			{mode: full, status: roster.RunHeld, held: []int64{2}, groups: 3, member: 5},
		}, want{3, []int64{2}, 3, 5}},
		{"another source's hold does not count", []run{
			{other: true, mode: full, status: roster.RunHeld, held: []int64{1}, groups: 4, member: 4},
		}, want{}},
		{"another source's success does not clear", []run{
			{mode: full, status: roster.RunHeld, held: []int64{1}},
			{other: true, mode: full, status: roster.RunSucceeded},
		}, want{1, []int64{1}, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db, _, source := open(t, o)
			other, _ := db.SourceID(ctx, "other")
			var ids []int64
			for _, r := range tt.runs {
				run := &roster.Run{SourceID: source, Mode: r.mode, HeldUsers: r.held, Held: len(r.held),
					HeldGroups: r.groups, HeldMemberships: r.member}
				if r.other {
					run.SourceID = other
				}
				if err := db.StartRun(ctx, run); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, run.ID)
				if r.status != roster.RunRunning {
					run.Status = r.status
					if err := db.FinishRun(ctx, run); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := db.HeldRemovals(ctx, source)
			if err != nil {
				t.Fatal(err)
			}
			var w roster.Hold
			if tt.want.run > 0 {
				w = roster.Hold{RunID: ids[tt.want.run-1], Users: tt.want.users, Groups: tt.want.groups, Memberships: tt.want.member}
			}
			if !reflect.DeepEqual(got, w) {
				t.Errorf("HeldRemovals = %+v, want %+v", got, w)
			}
		})
	}
}

// A source's latest run of some modes, however many runs of other modes
// came after it: the console's warnings rely on it.
func testLatestRun(t *testing.T, o Opener) {
	ctx := context.Background()
	db, _, corp := open(t, o)
	lab, _ := db.SourceID(ctx, "lab")
	start := func(source int64, mode roster.RunMode) int64 {
		run := &roster.Run{SourceID: source, Mode: mode, StartedAt: t0}
		if err := db.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		return run.ID
	}
	full := start(corp, roster.RunFull)
	var incr int64
	for range 3 {
		incr = start(corp, roster.RunIncremental)
	}
	start(corp, roster.RunWriteBack)
	start(lab, roster.RunIncremental)
	for _, tt := range []struct {
		source int64
		modes  []roster.RunMode
		want   int64
	}{
		{corp, []roster.RunMode{roster.RunFull, roster.RunIncremental}, incr},
		{corp, []roster.RunMode{roster.RunFull}, full},
		{lab, []roster.RunMode{roster.RunFull}, 0},
	} {
		r, err := db.LatestRun(ctx, tt.source, tt.modes...)
		if err != nil || (r == nil) != (tt.want == 0) || r != nil && r.ID != tt.want {
			t.Errorf("LatestRun(%d, %v) = %+v, %v; want run %d", tt.source, tt.modes, r, err, tt.want)
		}
	}
}
