// Package examples_test holds the check of the README's code: every Go
// block in it is a whole file that builds, and a block that is a test
// passes.
package examples_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// blocks returns the bodies of the README's ```lang blocks.
func blocks(t *testing.T, readme, lang string) []string {
	t.Helper()
	var blocks []string
	rest := readme
	open := "\n```" + lang + "\n"
	for {
		i := strings.Index(rest, open)
		if i < 0 {
			return blocks
		}
		rest = rest[i+len(open):]
		j := strings.Index(rest, "\n```\n")
		if j < 0 {
			t.Fatalf("README: a ```go block is never closed")
		}
		blocks = append(blocks, rest[:j+1])
		rest = rest[j:]
	}
}

var testFunc = regexp.MustCompile(`(?m)^func Test\w*\(t \*testing\.T\)`)

// Every ```go block of the README is a whole file (a program or a test)
// that is gofmt-clean, type-checks and vets against this module, offline; a block that
// is a test is run. Each is written under a directory of this module whose
// name starts with "_", which ./... never matches, and removed after.
func TestReadmeCodeBlocksBuild(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := blocks(t, string(data), "go")
	if len(blocks) < 2 {
		t.Fatalf("README: %d ```go blocks, want the quick start and the test at least", len(blocks))
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	root, err := os.MkdirTemp(".", "_readme")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })

	var pkgs, tests []string
	for i, b := range blocks {
		if !strings.HasPrefix(b, "package ") {
			t.Errorf("README: go block %d is not a whole file (it must start with a package clause):\n%s", i+1, b)
			continue
		}
		if f, err := format.Source([]byte(b)); err == nil && string(f) != b {
			t.Errorf("README: go block %d is not gofmt-clean; gofmt gives:\n%s", i+1, f)
		}
		dir := filepath.Join(root, strconv.Itoa(i+1))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := "main.go"
		if testFunc.MatchString(b) {
			name = "main_test.go"
			tests = append(tests, "./"+filepath.ToSlash(dir))
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, "./"+filepath.ToSlash(dir))
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goCmd, args...)
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(append([]string{"vet"}, pkgs...)...)
	if len(tests) > 0 {
		run(append([]string{"test", "-count=1"}, tests...)...)
	}
}

// Every ```yaml block of the README is a configuration that loads, its
// variables and files supplied (a P-384 key for SMART).
func TestReadmeConfigurationsLoad(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	yamls := blocks(t, string(data), "yaml")
	if len(yamls) == 0 {
		t.Fatal("README: no ```yaml block: the quick start declares its backends in one")
	}
	for i, y := range yamls {
		_, err := backends.Parse([]byte(y),
			backends.WithLookupEnv(func(string) (string, bool) { return "from-the-environment", true }),
			rest.WithReadFile(func(string) ([]byte, error) { return keyPEM, nil }))
		if err != nil {
			t.Errorf("README: yaml block %d: %v", i+1, err)
		}
	}
}

// The README is what a newcomer reads first: it fits on a few screens
// (issue 19: at most 300 lines); references live in the package docs.
func TestReadmeFitsOnAFewScreens(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n > 300 {
		t.Fatalf("README.md has %d lines; at most 300 (move references to the package docs)", n)
	}
}
