package ldap

// SetLeanDecoding turns the lean decoder of search result entries on or
// off for the connections dialled until restore is called, so that the
// lab's tests compare it with go-ldap's on real directories.
func SetLeanDecoding(on bool) (restore func()) {
	was := leanDecoding
	leanDecoding = on
	return func() { leanDecoding = was }
}
