package roster_test

import (
	"testing"

	"github.com/rosterhq/roster"
)

func TestProcessAsALeaseHolder(t *testing.T) {
	const boot = "8c5f0e7a9b1d4c3e8f2a6b7c9d0e1f23"
	located := roster.Process{Host: "print-1", PID: 4242, Nonce: "a1b2c3d4", Boot: boot, PIDNS: "4026531836", Start: 123456}
	tests := []struct {
		name    string
		holder  string
		want    roster.Process
		wantOK  bool
		located bool
	}{
		{"a holder names host, PID, random part, boot, PID namespace and start", "print-1/4242/a1b2c3d4/" + boot + ":4026531836:123456", located, true, true},
		{"an older version's holder parses, without a place", "print-1/4242/a1b2c3d4", roster.Process{Host: "print-1", PID: 4242, Nonce: "a1b2c3d4"}, true, false},
		{"a PID that is no number is refused", "print-1/x/a1b2c3d4", roster.Process{}, false, false},
		{"PID 0 is refused: kill(0) means a process group", "print-1/0/a1b2c3d4", roster.Process{}, false, false},
		{"a negative PID is refused", "print-1/-1/a1b2c3d4", roster.Process{}, false, false},
		{"a place without a start time is refused", "print-1/4242/a1b2c3d4/" + boot + ":4026531836", roster.Process{}, false, false},
		{"a start time of 0 is refused", "print-1/4242/a1b2c3d4/" + boot + ":4026531836:0", roster.Process{}, false, false},
		{"an empty boot is refused", "print-1/4242/a1b2c3d4/:4026531836:5", roster.Process{}, false, false},
		{"a host holding a slash is refused", "print/1/4242/a1b2c3d4/" + boot + ":1:5", roster.Process{}, false, false},
		{"a test's plain name is no process", "node-a", roster.Process{}, false, false},
		{"an empty holder is no process", "", roster.Process{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := roster.ParseProcess(tt.holder)
			if ok != tt.wantOK || p != tt.want || p.Located() != tt.located {
				t.Fatalf("ParseProcess(%q) = %+v, %v; want %+v, %v", tt.holder, p, ok, tt.want, tt.wantOK)
			}
			if ok && p.String() != tt.holder {
				t.Errorf("String() = %q, want %q back", p.String(), tt.holder)
			}
		})
	}

	t.Run("a slash in the host name does not break the holder", func(t *testing.T) {
		p := located
		p.Host = "a/b"
		if q, ok := roster.ParseProcess(p.String()); !ok || q.Host != "a_b" || q.PID != p.PID {
			t.Fatalf("ParseProcess(%q) = %+v, %v", p.String(), q, ok)
		}
	})
	t.Run("PIDs compare only within one host, boot and PID namespace", func(t *testing.T) {
		other := located
		other.PID, other.Nonce, other.Start = 99, "ffff0000", 1
		if !located.SamePIDs(other) {
			t.Error("two processes of one PID space are not alike")
		}
		for name, change := range map[string]func(*roster.Process){
			"another host":             func(p *roster.Process) { p.Host = "print-2" },
			"another boot":             func(p *roster.Process) { p.Boot = "00000000000000000000000000000000" },
			"another PID namespace":    func(p *roster.Process) { p.PIDNS = "4026532000" },
			"a holder without a place": func(p *roster.Process) { p.Boot, p.PIDNS, p.Start = "", "", 0 },
			"a holder without a start": func(p *roster.Process) { p.Start = 0 },
		} {
			q := other
			change(&q)
			if located.SamePIDs(q) || q.SamePIDs(located) {
				t.Errorf("%s shares PIDs", name)
			}
		}
	})
}
