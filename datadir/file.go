package datadir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path through a temporary file in the same
// folder and moves it into place, so a crash never leaves half a key file.
// The temporary file has the final mode from the start, so a key is never
// readable by others, not even for a moment. Unless replace is set, an
// existing file is never overwritten, even one created a moment ago by
// another run: the move is a hard link, which fails if the name exists.
//
// Errors: one wrapping fs.ErrExist when path exists and replace is not
// set; otherwise the folder or the file could not be written.
func WriteFile(path string, data []byte, mode os.FileMode, replace bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".roster-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else if err = os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; not replacing it: %w", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	// Make the new name itself durable.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
