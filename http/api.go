package http

import (
	"strconv"
)

func itoa(n int) string { return strconv.Itoa(n) }

// nonNil makes an empty list marshal as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
