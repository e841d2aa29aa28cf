package roster

import "strings"

// AttrAADObjectID is the attribute in which Entra Domain Services keeps
// the Entra ID object ID of a user it synced from Entra ID; its
// objectGUID is a different value, minted by the managed domain.
const AttrAADObjectID = "msDS-aadObjectId"

// EntraObject is an Entra ID user, as a move matches it.
type EntraObject struct {
	ID         string // the object ID, the anchor of an entra-id source
	UPN        string
	Mail       string
	EmployeeID string
}

// MoveMatch is a stored user matched with its Entra ID object.
type MoveMatch struct {
	UserID int64  `json:"user_id"`
	Login  string `json:"login"`
	From   string `json:"from"` // the Entra DS anchor (objectGUID)
	To     string `json:"to"`   // the Entra ID object ID
	By     string `json:"by"`   // msDS-aadObjectId, or userPrincipalName confirmed by mail or employeeID
}

// MoveMiss is a stored user a move cannot rebind, and why.
type MoveMiss struct {
	UserID int64  `json:"user_id"`
	Login  string `json:"login"`
	Why    string `json:"why"`
}

// MovePlan is what a move of an Entra DS source to Entra ID does: the
// users it rebinds, and those it leaves as they are (unmatched or
// ambiguous), whom the next full sync of the moved source treats as
// any user the directory no longer returns, under the removal
// threshold. A move itself removes nobody.
type MovePlan struct {
	Matched   []MoveMatch `json:"matched"`
	Unmatched []MoveMiss  `json:"unmatched"`
	Ambiguous []MoveMiss  `json:"ambiguous"`
}

// PlanMove matches the users of an Entra DS source with the tenant's
// Entra ID objects: by the msDS-aadObjectId each sync recorded, else by
// userPrincipalName confirmed by mail or employeeID. An object is given
// to one user at most: two users that match one object are ambiguous,
// as is a fallback that several objects confirm.
func PlanMove(users []*User, objects []EntraObject) MovePlan {
	byID := map[string]EntraObject{}
	byUPN := map[string][]EntraObject{}
	for _, o := range objects {
		byID[strings.ToLower(o.ID)] = o
		if o.UPN != "" {
			k := strings.ToLower(o.UPN)
			byUPN[k] = append(byUPN[k], o)
		}
	}
	var p MovePlan
	claims := map[string]int{} // object ID -> how many users matched it
	for _, u := range users {
		extra := func(a string) string {
			if v := u.Extra[a]; len(v) > 0 {
				return strings.ToLower(v[0])
			}
			return ""
		}
		var m *MoveMatch
		if id := extra(AttrAADObjectID); id != "" {
			if o, ok := byID[id]; ok {
				m = &MoveMatch{UserID: u.ID, Login: u.Login, From: u.Anchor, To: o.ID, By: AttrAADObjectID}
			}
		}
		if m == nil {
			upn, emp := extra("userPrincipalName"), extra("employeeID")
			var confirmed []EntraObject
			by := ""
			for _, o := range byUPN[upn] {
				switch {
				case u.Email != "" && strings.EqualFold(o.Mail, u.Email):
					confirmed, by = append(confirmed, o), "userPrincipalName and mail"
				case emp != "" && strings.EqualFold(o.EmployeeID, emp):
					confirmed, by = append(confirmed, o), "userPrincipalName and employeeID"
				}
			}
			switch {
			case upn == "" && extra(AttrAADObjectID) == "":
				p.Unmatched = append(p.Unmatched, MoveMiss{u.ID, u.Login, "its last sync recorded neither msDS-aadObjectId nor userPrincipalName: run a full sync of the Entra DS source, then plan the move again"})
				continue
			case upn == "" || len(byUPN[upn]) == 0:
				p.Unmatched = append(p.Unmatched, MoveMiss{u.ID, u.Login, "no Entra ID user has its msDS-aadObjectId or its userPrincipalName"})
				continue
			case len(confirmed) == 0:
				p.Unmatched = append(p.Unmatched, MoveMiss{u.ID, u.Login, "an Entra ID user has its userPrincipalName, but neither its mail nor its employee ID confirms it"})
				continue
			case len(confirmed) > 1:
				p.Ambiguous = append(p.Ambiguous, MoveMiss{u.ID, u.Login, "several Entra ID users match its userPrincipalName"})
				continue
			}
			m = &MoveMatch{UserID: u.ID, Login: u.Login, From: u.Anchor, To: confirmed[0].ID, By: by}
		}
		claims[strings.ToLower(m.To)]++
		p.Matched = append(p.Matched, *m)
	}
	// An object claimed by two users goes to neither.
	var keep []MoveMatch
	for _, m := range p.Matched {
		if claims[strings.ToLower(m.To)] > 1 {
			p.Ambiguous = append(p.Ambiguous, MoveMiss{m.UserID, m.Login, "another user matches the same Entra ID user"})
			continue
		}
		keep = append(keep, m)
	}
	p.Matched = keep
	return p
}

// MoveResult is a move's plan, and what carrying it out did.
type MoveResult struct {
	MovePlan
	Users   int  `json:"users"`   // the source's users
	Objects int  `json:"objects"` // the tenant's users
	Applied bool `json:"applied"`
	Rebound int  `json:"rebound"`
	// Stored: the source had settings (set up in the console), which
	// now read Entra ID; otherwise it is synced from a configuration or
	// the command line, which must say -type entra-id from now on.
	Stored bool `json:"stored"`
}
