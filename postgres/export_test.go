package postgres

import (
	"context"

	"github.com/rosterhq/roster/sqlstore"
)

// OpenCopyingEveryBatch is Open in a dialect that copies any number of
// rows (CopyMin 1), for the tests: most of the conformance suite's
// batches are too small to be copied otherwise.
func OpenCopyingEveryBatch(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	d := Dialect
	d.CopyMin = 1
	return open(ctx, dsn, d)
}
