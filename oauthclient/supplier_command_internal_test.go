//go:build unix

package oauthclient

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A command that prints more than 64 KiB on either stream is stopped and
// refused, whatever it prints and however long it would go on, and no more
// than the bound is ever kept.
func TestCommandSupplierBoundsItsOutput(t *testing.T) {
	for name, tc := range map[string]struct {
		args   []string
		stream string
	}{
		"endless standard output":         {[]string{"yes"}, "standard output"},
		"10 MiB standard output":          {[]string{"/bin/sh", "-c", "yes | head -c 10485760"}, "standard output"},
		"endless standard error":          {[]string{"/bin/sh", "-c", "yes >&2"}, "standard error"},
		"10 MiB standard error":           {[]string{"/bin/sh", "-c", "yes | head -c 10485760 >&2; echo token"}, "standard error"},
		"endless output, SIGPIPE ignored": {[]string{"/bin/sh", "-c", "trap '' PIPE; yes 2>/dev/null"}, "standard output"},
	} {
		t.Run(name, func(t *testing.T) {
			// The bound must stop the command, not this deadline, which
			// only keeps a failing test from filling the memory for long.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sup := CommandSupplier(tc.args[0], tc.args[1:]...).(commandSupplier)

			out, errOut, _ := sup.run(ctx)
			assert.LessOrEqual(t, len(out.buf), maxSupplied, "standard output kept")
			assert.LessOrEqual(t, len(errOut.buf), maxSupplied, "standard error kept")

			v, _, err := supply(ctx, "crm", "assertion", sup)
			require.Error(t, err)
			assert.Empty(t, v)
			assert.Contains(t, err.Error(), `security definition "crm": assertion: command `+tc.args[0]+": "+tc.stream+" larger than 64 KiB")
			assert.NoError(t, ctx.Err(), "stopped by the bound, not by the deadline")
			assert.False(t, errors.Is(err, context.DeadlineExceeded))
		})
	}
}

// Output of exactly the bound is still a credential.
func TestCommandSupplierTakesOutputUpToTheBound(t *testing.T) {
	v, _, err := CommandSupplier("/bin/sh", "-c", "yes | tr -d '\\n' | head -c 65536").Supply(context.Background())
	require.NoError(t, err)
	assert.Len(t, v, maxSupplied)
}
