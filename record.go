package roster

// Record is one user as the directory describes it, after mapping: what
// the sync engine compares with the stored user of the same Anchor.
type Record struct {
	Anchor     string // objectGUID (canonical string) or entryUUID
	DN         string
	Login      string
	Name       string
	Email      string
	Department string
	CostCenter string
	Cards      []string // directory cards, primary first, after the source's card transforms
	// CardProblems are the card values the card transforms refused, each
	// with why. The user is synced without them; the run notes them.
	CardProblems []string
	PrintCode    string // as the directory holds it; stored only as a keyed hash
	Disabled     bool   // disabled or expired in the directory
	Extra        map[string][]string
}

// GroupRecord is one group as the directory describes it, with its
// members resolved through nesting to user DNs.
type GroupRecord struct {
	Anchor    string
	DN        string
	Name      string
	MemberDNs []string // users, transitively; nested groups are resolved away
}
