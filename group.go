package roster

// Group is a directory group as roster keeps it. Members lists the users
// that belong to it once nesting is resolved; nested groups themselves are
// not members.
type Group struct {
	ID       int64
	SourceID int64
	Anchor   string // objectGUID or entryUUID, as for users
	DN       string
	Name     string
	Members  []int64 // user IDs
}

// GroupSummary is a group with how many roster users belong to it.
type GroupSummary struct {
	Group
	Users int `json:"users"`
}
