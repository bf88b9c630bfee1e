package oauthclient_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// fifo makes a named pipe in a temporary directory.
func fifo(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	return p
}

// requireEOF reads r to its end: every process that held its other end
// open has exited. The deadline only keeps a failing test from hanging.
func requireEOF(t *testing.T, r *os.File, what string) {
	t.Helper()
	require.NoError(t, r.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err := io.Copy(io.Discard, r)
	require.NoError(t, err, "%s is still running", what)
}

type supplied struct {
	v   string
	err error
}

func supplyAsync(ctx context.Context, sup oauthclient.Supplier) <-chan supplied {
	done := make(chan supplied, 1)
	go func() {
		v, _, err := sup.Supply(ctx)
		done <- supplied{v, err}
	}()
	return done
}

// A command that hangs is killed when the fetch's context ends, and so is
// every process it started: none lingers.
func TestCommandSupplierKillsAHungCommandAndItsChildren(t *testing.T) {
	held := fifo(t, "held")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The child sleeps in the background holding the fifo open; the
	// command itself waits for it.
	done := supplyAsync(ctx, oauthclient.CommandSupplier("/bin/sh", "-c", `sleep 1000 >"$1" & wait`, "sh", held))

	r, err := os.Open(held) // returns once the child holds the other end
	require.NoError(t, err)
	defer r.Close()
	cancel() // the fetch's deadline, reached while the command hangs

	res := <-done
	require.Error(t, res.err)
	assert.True(t, errors.Is(res.err, context.Canceled), "%v", res.err)
	requireEOF(t, r, "the command's child")
}

// A command that leaves a child running in the background succeeds at
// once, and the child does not outlive it.
func TestCommandSupplierEndsTheChildrenOfACommandThatExited(t *testing.T) {
	held, goOn := fifo(t, "held"), fifo(t, "go-on")
	done := supplyAsync(context.Background(), oauthclient.CommandSupplier("/bin/sh", "-c",
		`sleep 1000 >"$1" & read x <"$2"; echo token-1`, "sh", held, goOn))

	r, err := os.Open(held) // the child holds the other end
	require.NoError(t, err)
	defer r.Close()
	w, err := os.OpenFile(goOn, os.O_WRONLY, 0) // the command goes on, and exits
	require.NoError(t, err)
	require.NoError(t, w.Close())

	res := <-done
	require.NoError(t, res.err)
	assert.Equal(t, "token-1", res.v)
	requireEOF(t, r, "the command's background child")
}
