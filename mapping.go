package roster

import (
	"slices"
	"strings"
)

// LoginFormat says which directory attribute becomes the roster login.
type LoginFormat string

const (
	LoginSAM  LoginFormat = "sAMAccountName" // AD's pre-Windows 2000 name
	LoginUPN  LoginFormat = "userPrincipalName"
	LoginMail LoginFormat = "mail"
	LoginUID  LoginFormat = "uid" // OpenLDAP
)

// Mapping says which directory attribute fills which user field. Every
// field can be overridden; empty fields take the preset of the source's
// directory type (see DefaultMapping).
type Mapping struct {
	Login          LoginFormat `json:"login,omitempty"`
	KeepLoginCase  bool        `json:"keep_login_case,omitempty"` // logins are lower-cased unless set
	Name           string      `json:"name,omitempty"`
	Email          string      `json:"email,omitempty"`
	Department     string      `json:"department,omitempty"`
	CostCenter     string      `json:"cost_center,omitempty"`
	Cards          []string    `json:"cards,omitempty"`           // attributes holding card numbers, first one primary
	CardSeparators string      `json:"card_separators,omitempty"` // characters splitting several cards in one value
	// CardTransforms turn each card value, as the directory holds it,
	// into what the source's badge readers send (see CardPipeline).
	CardTransforms CardPipeline `json:"card_transforms,omitempty"`
	PrintCode      string       `json:"print_code,omitempty"`
	Extra          []string     `json:"extra,omitempty"` // attributes kept as they come
}

// WithDefaults fills the empty fields of m from the preset for t.
func (m Mapping) WithDefaults(t DirectoryType) Mapping {
	d := DefaultMapping(t)
	if m.Login == "" {
		m.Login = d.Login
	}
	for _, f := range []struct {
		dst *string
		def string
	}{
		{&m.Name, d.Name}, {&m.Email, d.Email}, {&m.Department, d.Department},
		{&m.CostCenter, d.CostCenter}, {&m.PrintCode, d.PrintCode}, {&m.CardSeparators, d.CardSeparators},
	} {
		if *f.dst == "" {
			*f.dst = f.def
		}
	}
	if m.Cards == nil {
		m.Cards = d.Cards
	}
	return m
}

// Attributes lists every directory attribute the mapping reads.
func (m Mapping) Attributes() []string {
	out := []string{string(m.Login), m.Name, m.Email, m.Department, m.CostCenter, m.PrintCode}
	out = append(out, m.Cards...)
	out = append(out, m.Extra...)
	seen := map[string]bool{}
	var uniq []string
	for _, a := range out {
		if a != "" && !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			uniq = append(uniq, a)
		}
	}
	return uniq
}

// CardsOf turns the values of the card attributes, as the directory
// holds them, into the user's cards: each value split at the card
// separators, trimmed, run through the card transforms, duplicates
// dropped, in order (the first is primary). A value the transforms
// refuse is left out and said in problems, for the run's notes.
func (m Mapping) CardsOf(values []string) (cards, problems []string) {
	for _, v := range values {
		for _, c := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(m.CardSeparators, r) }) {
			if c = strings.TrimSpace(c); c == "" {
				continue
			}
			c, err := m.CardTransforms.Apply(c)
			if err != nil {
				problems = append(problems, ErrorMessage(err))
				continue
			}
			if !slices.Contains(cards, c) {
				cards = append(cards, c)
			}
		}
	}
	return cards, problems
}
