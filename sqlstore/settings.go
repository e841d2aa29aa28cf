package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster"
)

// encodeSettings is the settings column of a source: roster's one
// written format (roster.SourceSettings), without the password, which is
// sealed apart.
func encodeSettings(src *roster.Source) (string, error) {
	b, err := json.Marshal(roster.SettingsOf(src))
	if err != nil {
		return "", fmt.Errorf("store: source settings: %w", err)
	}
	return string(b), nil
}

// decodeSettings reads a settings column. It does not validate: a source
// saved under older rules opens, to be corrected.
func decodeSettings(id int64, settings string) (*roster.Source, error) {
	var s roster.SourceSettings
	if err := json.Unmarshal([]byte(settings), &s); err != nil {
		return nil, fmt.Errorf("store: settings of source %d: %w", id, err)
	}
	// Before step 012 the API stored disabled_users unchecked, and the
	// engine read anything but skip as keep: such a row opens as keep,
	// rather than failing the list of sources, and with it the schedule.
	if d := strings.ToLower(s.DisabledUsers); d != string(roster.SkipDisabled) {
		s.DisabledUsers = string(roster.KeepDisabled)
	}
	src, err := s.Source()
	if err != nil {
		return nil, fmt.Errorf("store: settings of source %d: %w", id, err)
	}
	src.ID = id
	return src, nil
}

// legacySettings is the settings column as roster wrote it before
// migration 012: roster.Source marshalled as it was, under its Go field
// names. It is frozen here, apart from roster.Source, so that the step
// reads old rows right whatever the type becomes.
type legacySettings struct {
	Name          string
	Type          string
	Address       string
	TLSMode       string
	AllowInsecure bool
	Domain        string
	BaseDNs       []string
	Login         string
	Trust         struct {
		CAPEM      []byte
		PinSHA256  string
		ServerName string
		SkipVerify bool
	}
	ConnectTimeout      time.Duration
	RequestTimeout      time.Duration
	RunTimeout          time.Duration
	UserFilter          string
	GroupScope          []string
	FullSchedule        string
	IncrementalInterval time.Duration
	// The mapping and write-back had their JSON names already; they are
	// carried over as they are.
	Mapping       json.RawMessage
	WriteBack     json.RawMessage
	DisabledUsers string
	Removal       struct {
		Delete           bool
		Grace            time.Duration
		ThresholdPercent float64
		ThresholdCount   int
	}
}

// renameSettings is migration 012's Go part: it rewrites every settings
// column written under Go's field names in the written format. A row
// already in that format is left alone.
func renameSettings(ctx context.Context, t *tx) error {
	rows, err := t.QueryContext(ctx, `SELECT id, settings FROM sources WHERE settings IS NOT NULL`)
	if err != nil {
		return err
	}
	type row struct {
		id       int64
		settings string
	}
	var old []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.settings); err != nil {
			rows.Close()
			return err
		}
		old = append(old, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range old {
		b, changed, err := renamedSettings([]byte(r.settings))
		if err != nil {
			return fmt.Errorf("the settings of source %d: %w", r.id, err)
		}
		if !changed {
			continue
		}
		if _, err := t.ExecContext(ctx, `UPDATE sources SET settings = ? WHERE id = ?`, string(b), r.id); err != nil {
			return err
		}
	}
	return nil
}

// renamedSettings turns a settings column under Go's field names into
// the written format, and reports whether it was under Go's names.
func renamedSettings(b []byte) ([]byte, bool, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, false, err
	}
	if _, goNames := keys["TLSMode"]; !goNames {
		return b, false, nil
	}
	var l legacySettings
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, false, err
	}
	s := roster.SourceSettings{
		Name: l.Name, Type: l.Type, Address: l.Address, TLS: l.TLSMode, AllowInsecure: l.AllowInsecure,
		Domain: l.Domain, BaseDNs: l.BaseDNs, Login: l.Login,
		CAPEM: string(l.Trust.CAPEM), PinSHA256: l.Trust.PinSHA256, ServerName: l.Trust.ServerName, InsecureSkipVerify: l.Trust.SkipVerify,
		ConnectTimeout: roster.Duration(l.ConnectTimeout), Timeout: roster.Duration(l.RequestTimeout), RunTimeout: roster.Duration(l.RunTimeout),
		UserFilter: l.UserFilter, GroupScope: l.GroupScope, FullSchedule: l.FullSchedule, IncrementalInterval: roster.Duration(l.IncrementalInterval),
		DisabledUsers: l.DisabledUsers,
		Removal:       roster.RemovalSettings{Action: "disable", ThresholdPercent: l.Removal.ThresholdPercent, ThresholdCount: l.Removal.ThresholdCount},
	}
	if l.Removal.Delete {
		s.Removal.Action, s.Removal.Grace = "delete", roster.Duration(l.Removal.Grace)
	}
	for _, raw := range []struct {
		from json.RawMessage
		to   any
	}{{l.Mapping, &s.Mapping}, {l.WriteBack, &s.WriteBack}} {
		if len(raw.from) > 0 && string(raw.from) != "null" {
			if err := json.Unmarshal(raw.from, raw.to); err != nil {
				return nil, false, err
			}
		}
	}
	out, err := json.Marshal(s)
	return out, true, err
}
