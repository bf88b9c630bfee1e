// Package files is tokenwire's one reader of the files a configuration
// names: regular files only, bounded in size, checked before they are read.
package files

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// MaxSize bounds every file read: 1 MiB.
const MaxSize = 1 << 20

// Errors of Read, without the path (callers name the field and the file).
var (
	ErrTooLarge   = errors.New("larger than 1 MiB")
	ErrNotRegular = errors.New("not a regular file")
)

// Read reads the regular file at path, of at most MaxSize bytes. A device
// (/dev/zero), a FIFO, a directory or a huge sparse file is refused
// without being read; the file is opened without blocking, so a FIFO with
// no writer cannot hang the caller.
func Read(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, ErrNotRegular
	case fi.Size() > MaxSize:
		return nil, ErrTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err == nil && len(b) > MaxSize {
		return nil, ErrTooLarge // it grew while being read
	}
	return b, err
}
