package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster"
)

// UserStore is what the users API needs of the user base (users.go,
// cards.go and printcodes.go): finding and showing users and groups,
// the cards an admin adds by hand, and print codes, one at a time
// (roster.AssignPrintCode) or in bulk (roster.AssignFirstPrintCodes).
type UserStore interface {
	// FindUsers returns one page of the users f selects, ordered by
	// login then ID, complete with aliases and cards, and how many users
	// f selects over all pages. A Limit of 0 or less means no limit; an
	// Offset below 0 counts as 0.
	//
	// Errors: none with a roster code.
	FindUsers(ctx context.Context, f roster.UserFilter) ([]*roster.User, int, error)

	// UserByLogin returns the user whose login, or else whose former
	// login, is login, in any source, complete with aliases and cards.
	// The login is compared as syncs store logins: trimmed and in NFC
	// (roster.NormalizeLogin), case included, so a caller that forgives
	// case asks again. When several users match, a current login wins
	// over a former one, a former one over that of a user disabled as
	// missing, and then the oldest user (the lowest ID).
	//
	// Errors: ENOTFOUND when no user has or had the login.
	UserByLogin(ctx context.Context, login string) (*roster.User, error)

	// UserByID returns the user with this ID, complete with aliases and
	// cards.
	//
	// Errors: ENOTFOUND when no user has the ID.
	UserByID(ctx context.Context, id int64) (*roster.User, error)

	// UserGroups returns the groups of the user's own source that list
	// the user among their members, by name, with Members left empty:
	// none for a user in no group.
	//
	// Errors: ENOTFOUND when no user has the ID.
	UserGroups(ctx context.Context, userID int64) ([]*roster.Group, error)

	// Groups lists the groups of every source, by name, each with how
	// many stored users of its source belong to it, nesting resolved.
	//
	// Errors: none with a roster code.
	Groups(ctx context.Context) ([]*roster.GroupSummary, error)

	// UsersWithoutPrintCode returns the enabled users of the source
	// sourceID who have no print code, by ID: those a bulk generation
	// gives one. Each has its ID, source, login, name and email only. An
	// unknown source has none.
	//
	// Errors: none with a roster code.
	UsersWithoutPrintCode(ctx context.Context, sourceID int64) ([]*roster.User, error)

	// UsersByPrintCodeHash returns the users whose print code has this
	// keyed hash, by ID, at most 10: one, normally, but codes from a
	// directory may repeat. Aliases and cards are not loaded. An empty
	// hash matches nobody. roster.AssignPrintCode asks it whether a
	// drawn code is free.
	//
	// Errors: none with a roster code.
	UsersByPrintCodeHash(ctx context.Context, hash string) ([]*roster.User, error)

	// SetPrintCodeHash gives the user userID a new print code, as its
	// keyed hash, unless another user has that hash; the check and the
	// write are one transaction, so two admins cannot both set one code.
	// A directory that holds the user's code overrides it at the next
	// sync.
	//
	// Errors: ENOTFOUND when no user has the ID; ECONFLICT when another
	// user has the hash (roster.AssignPrintCode then draws again).
	SetPrintCodeHash(ctx context.Context, userID int64, hash string) error

	// AddCard gives the user userID a card added by hand, with the
	// card's number, kind and expiry: it is stored as manual, whatever
	// card.Origin says, and no sync removes it.
	//
	// Errors: EINVALID when the number is empty; ENOTFOUND when no user
	// has the ID; ECONFLICT when the number is a card of any user
	// already, this one included (the message names both logins).
	AddCard(ctx context.Context, userID int64, card roster.Card) error

	// RemoveCard takes the card number, added by hand, from the user
	// userID. A card from the directory follows the directory: it is
	// changed there, and the next sync brings the change.
	//
	// Errors: ENOTFOUND when the user holds no such card (an unknown
	// user included); EINVALID when the card came from the directory.
	RemoveCard(ctx context.Context, userID int64, number string) error

	roster.BulkPrintCodeStore
}

// userView is a user as the API shows it: the print code only as set or
// not, never its hash.
type userView struct {
	*roster.User
	PrintCodeSet bool            `json:"print_code_set"`
	Groups       []*roster.Group `json:"groups,omitempty"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := roster.UserFilter{Query: q.Get("q"), Limit: 50}
	if v := q.Get("disabled"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.writeError(w, r, roster.Errorf(roster.EINVALID, "disabled must be true or false"))
			return
		}
		f.Disabled = &b
	}
	for name, dst := range map[string]*int{"offset": &f.Offset, "limit": &f.Limit} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || name == "limit" && (n == 0 || n > 1000) {
				s.writeError(w, r, roster.Errorf(roster.EINVALID, "%s must be a whole number (limit: 1 to 1000)", name))
				return
			}
			*dst = n
		}
	}
	users, total, err := s.users.FindUsers(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = userView{User: u, PrintCodeSet: u.PrintCodeHash != ""}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": f.Offset, "users": views})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, groups, err := s.userWithGroups(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userView{User: u, PrintCodeSet: u.PrintCodeHash != "", Groups: groups})
}

// pathUser finds the user of the path's login (or former login): as
// typed, else in lower case, as logins are stored unless the source keeps
// their case.
func (s *Server) pathUser(r *http.Request) (*roster.User, error) {
	login := r.PathValue("login")
	u, err := s.users.UserByLogin(r.Context(), login)
	if lower := strings.ToLower(login); roster.ErrorCode(err) == roster.ENOTFOUND && lower != login {
		return s.users.UserByLogin(r.Context(), lower)
	}
	return u, err
}

// userWithGroups finds the user of the path's login and its groups.
func (s *Server) userWithGroups(r *http.Request) (*roster.User, []*roster.Group, error) {
	u, err := s.pathUser(r)
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.users.UserGroups(r.Context(), u.ID)
	return u, groups, err
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := s.users.Groups(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": nonNil(groups)})
}
