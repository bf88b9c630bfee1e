package backends

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/suites"
)

// TestMain runs the package's tests, then prints the line that names the
// suites that skipped on this machine (internal/suites), if any did. This
// package is the last of go list ./..., whose output the go command prints
// in package order, so the line comes after every other package's.
func TestMain(m *testing.M) {
	code := m.Run()
	if f := flag.Lookup("test.list"); f == nil || f.Value.String() == "" {
		if line := suites.Summary(suites.OS()); line != "" {
			fmt.Println(line)
		}
	}
	os.Exit(code)
}

// The summary is printed last only while this package sorts last: a new
// package after it must take this file (and its TestMain) over.
func TestSkippedSuitesLineComesLast(t *testing.T) {
	root := filepath.Join("..", "..")
	var pkgs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			pkgs = append(pkgs, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(pkgs)
	pkgs = slices.Compact(pkgs)
	require.Contains(t, pkgs, "rest/backends")
	require.Equal(t, "rest/backends", pkgs[len(pkgs)-1],
		"the last package of go list ./... prints the skipped suites: move rest/backends/skipped_suites_test.go there")
}
