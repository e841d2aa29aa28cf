package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/rosterhq/roster"
)

// planSpool keeps a dry run's planned changes in a temporary file, one
// JSON line each, as the run plans them (reconcile.Options.Plan): the
// plan of a first sync of 1,000,000 users took 1.86 GB in memory, and
// printing it needs each change once more only. The file is unlinked as
// soon as it is made where the system allows it (not Windows, where it
// goes when closed), so that no plan (names, addresses, cards) outlives
// the process, even one that is killed. Where no temporary file can be
// made, the plan is kept in memory, as before there was a spool.
type planSpool struct {
	f      *os.File      // the file, or nil: in memory
	path   string        // the file's name while it is still linked
	mem    *bytes.Buffer // the plan, when no file could be made
	w      *bufio.Writer
	enc    *json.Encoder
	counts map[roster.Kind]int
	logins map[roster.Kind]int // the widest login of each kind, in characters
}

// spooled is a change as the spool keeps it: what JSON shows of it, and
// the user's name, which a printed create shows.
type spooled struct {
	Change roster.Change `json:"c"`
	Name   string        `json:"n,omitempty"`
}

// newPlanSpool makes a spool. When no temporary file can be made it
// returns one in memory, and the error that says why.
func newPlanSpool() (*planSpool, error) {
	s := &planSpool{counts: map[roster.Kind]int{}, logins: map[roster.Kind]int{}}
	f, err := os.CreateTemp("", "roster-plan-*")
	var w io.Writer = f
	if err != nil {
		s.mem = &bytes.Buffer{}
		w = s.mem
	} else {
		s.f = f
		if os.Remove(f.Name()) != nil {
			s.path = f.Name() // removed on close
		}
	}
	s.w = bufio.NewWriterSize(w, 64<<10)
	s.enc = json.NewEncoder(s.w)
	return s, err
}

// add is the run's reconcile.Options.Plan.
func (s *planSpool) add(changes []roster.Change) error {
	for _, ch := range changes {
		rec := spooled{Change: ch}
		if ch.User != nil {
			rec.Name = ch.User.Name
		}
		if err := s.enc.Encode(rec); err != nil {
			return fmt.Errorf("cannot keep the dry run's plan in a temporary file (TMPDIR chooses its folder): %w", err)
		}
		s.counts[ch.Kind]++
		s.logins[ch.Kind] = max(s.logins[ch.Kind], utf8.RuneCountInString(ch.Login))
	}
	return nil
}

// len returns how many changes the spool holds.
func (s *planSpool) len() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// each calls fn with every spooled change of kind (every change for ""),
// in the order they were planned. A change's User holds its name only.
func (s *planSpool) each(kind roster.Kind, fn func(roster.Change) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("cannot keep the dry run's plan in a temporary file (TMPDIR chooses its folder): %w", err)
	}
	var r io.Reader
	if s.mem != nil {
		r = bytes.NewReader(s.mem.Bytes())
	} else {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		defer s.f.Seek(0, io.SeekEnd)
		r = s.f
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	for {
		var rec spooled
		if err := dec.Decode(&rec); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("cannot read the dry run's plan back from its temporary file: %w", err)
		}
		if kind != "" && rec.Change.Kind != kind {
			continue
		}
		rec.Change.User = &roster.User{Name: rec.Name}
		if err := fn(rec.Change); err != nil {
			return err
		}
	}
}

func (s *planSpool) close() {
	if s.f != nil {
		s.f.Close()
		if s.path != "" {
			os.Remove(s.path)
		}
	}
}
