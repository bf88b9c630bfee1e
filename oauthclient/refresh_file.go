package oauthclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tokenwire/tokenwire/internal/files"
)

// stateFile is [RefreshToken.StateFile]: where a family's newest record
// is kept across restarts, written atomically.
type stateFile string

// fileRecord is what a state file holds: the family it belongs to (the
// hash that names it, never a token) and its newest record.
type fileRecord struct {
	Family string `json:"family"`
	// By is the name of the process that wrote it in the family's
	// intents: the instance restarted with this file is the same replica,
	// and knows the intent it left in the store as its own.
	By string `json:"by,omitempty"`
	refreshRecord
}

// read returns the record the file keeps for family; nil when the file
// does not exist or belongs to another family (the operator authorised
// again: the supplier's token starts a new family).
func (f stateFile) read(family string) (*fileRecord, error) {
	if f == "" {
		return nil, nil
	}
	b, err := files.Read(string(f))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("refresh_state_file: %w", unwrapPath(err))
	}
	var fr fileRecord
	if err := json.Unmarshal(b, &fr); err != nil || fr.Token == "" {
		return nil, errors.New("refresh_state_file: not a refresh token state written by tokenwire")
	}
	if fr.Family != family {
		return nil, nil
	}
	return &fr, nil
}

// write replaces the file with rec as a database commits: a temporary
// file in the same directory, written, synced, renamed over the old one
// (mode 0600), and the directory synced, so that a crash leaves the old
// record or the new one, never a torn one.
func (f stateFile) write(family, by string, rec *refreshRecord) (err error) {
	if f == "" {
		return nil
	}
	b, _ := json.Marshal(fileRecord{Family: family, By: by, refreshRecord: *rec})
	dir := filepath.Dir(string(f))
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(string(f))+".*")
	if err != nil {
		return fmt.Errorf("refresh_state_file: %w", unwrapPath(err))
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err == nil {
		if _, err = tmp.Write(b); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), string(f))
	}
	if err != nil {
		return fmt.Errorf("refresh_state_file: %w", unwrapPath(err))
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("refresh_state_file: %w", unwrapPath(err))
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("refresh_state_file: syncing its directory: %w", unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the path from a file error: the message names the
// field, and the path is the operator's own.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
