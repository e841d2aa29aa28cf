package http_test

import (
	"fmt"
	"testing"
)

// Scripts written for the removal settings' earlier flat names keep
// working: alone, and beside the "removal" object a GET answers, where a
// flat name given wins for its field.
func TestTheEarlierRemovalNamesAreStillRead(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.signIn()
	src := articleSource()
	src["removal_action"], src["removal_grace"], src["threshold_count"] = "delete", "240h", 25
	code, body, _ := c.do("POST", "/api/v1/sources", src)
	removal, _ := body["removal"].(map[string]any)
	if code != 201 || removal["action"] != "delete" || removal["grace"] != "240h0m0s" || removal["threshold_count"] != float64(25) {
		t.Fatalf("create with the flat names = %d %v", code, body)
	}
	if _, ok := body["removal_action"]; ok {
		t.Errorf("the answer carries the earlier name: %v", body)
	}

	// GET, set one flat name, send it all back.
	id := fmt.Sprint(body["id"])
	_, got, _ := c.do("GET", "/api/v1/sources/"+id, nil)
	got["removal_action"], got["threshold_count"] = "disable", 40
	code, body, _ = c.do("PUT", "/api/v1/sources/"+id, got)
	removal, _ = body["removal"].(map[string]any)
	if code != 200 || removal["action"] != "disable" || removal["threshold_count"] != float64(40) {
		t.Fatalf("update with a flat name beside removal = %d %v", code, body)
	}
}
