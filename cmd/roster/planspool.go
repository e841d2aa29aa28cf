package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/rosterhq/roster"
)

// planSpool keeps a dry run's planned changes in a temporary file, one
// JSON line each, as the run plans them (reconcile.Options.Plan): the
// plan of a first sync of 1,000,000 users would take gigabytes in
// memory, and printing it needs each change once more only. The file is
// unlinked as soon as it is made, so that no plan (names, addresses)
// outlives the process, even one that is killed.
type planSpool struct {
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	counts map[roster.Kind]int
}

// spooled is a change as the spool keeps it: what JSON shows of it, and
// the user's name, which a printed create shows.
type spooled struct {
	Change roster.Change `json:"c"`
	Name   string        `json:"n,omitempty"`
}

func newPlanSpool() (*planSpool, error) {
	f, err := os.CreateTemp("", "roster-plan-*")
	if err != nil {
		return nil, fmt.Errorf("cannot make a temporary file for the dry run's plan: %w (TMPDIR chooses its folder)", err)
	}
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 64<<10)
	return &planSpool{f: f, w: w, enc: json.NewEncoder(w), counts: map[roster.Kind]int{}}, nil
}

// add is the run's reconcile.Options.Plan.
func (s *planSpool) add(changes []roster.Change) error {
	for _, ch := range changes {
		rec := spooled{Change: ch}
		if ch.User != nil {
			rec.Name = ch.User.Name
		}
		if err := s.enc.Encode(rec); err != nil {
			return fmt.Errorf("cannot keep the dry run's plan in a temporary file: %w", err)
		}
		s.counts[ch.Kind]++
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
// in the order they were planned. A create's User holds its name only.
func (s *planSpool) each(kind roster.Kind, fn func(roster.Change) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("cannot keep the dry run's plan in a temporary file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(s.f, 64<<10))
	for {
		var rec spooled
		if err := dec.Decode(&rec); err == io.EOF {
			break
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
	if _, err := s.f.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	return nil
}

func (s *planSpool) close() { s.f.Close() }
