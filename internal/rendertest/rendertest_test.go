package rendertest

import (
	"testing"
)

type leaky struct{ Password string }

type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

// The check can fail: a plain struct with a password is caught.
func TestNoSecretCatchesALeak(t *testing.T) {
	r := &recorder{TB: t}
	NoSecret(r, "leaky", leaky{Password: "hunter2-pw"}, "hunter2-pw")
	if !r.failed {
		t.Fatal("a struct printing its password was not caught")
	}
	r = &recorder{TB: t}
	NoSecret(r, "clean", leaky{Password: "x"}, "hunter2-pw")
	if r.failed {
		t.Fatal("a clean value was reported")
	}
}
