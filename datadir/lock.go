package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rosterhq/roster"
)

// ErrLocked says another process holds the data folder's sync lock. Lock's
// error wraps it, so that the command line can tell it from a failure.
var ErrLocked = errors.New("the data folder is locked by another sync")

// LockName is the lock's file in the data folder.
const LockName = "sync.lock"

// Lock makes sure one sync at a time works on the data folder dir: two
// runs of the same source would race over the same users. It does not
// wait. The system lets the lock go when the process ends, however it
// ends (kill -9 included), so a crash never leaves the folder locked.
//
// Errors: an ECONFLICT *roster.Error wrapping ErrLocked when another
// process (or this one) holds it; a plain error when the lock file cannot
// be made.
func Lock(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot create the lock in %s: %w", dir, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, &roster.Error{Code: roster.ECONFLICT, Err: ErrLocked,
			Message: fmt.Sprintf("another roster sync is running on the data folder %s (a roster sync from the command line, or roster serve's sync of another source); wait for it to finish", dir)}
	}
	return func() { unlockFile(f); f.Close() }, nil
}
