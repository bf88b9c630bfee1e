package rendertest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

type leaky struct{ Password string }

type leakyBytes struct{ Key []byte }

type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

// The check can fail: a plain struct with a password, or with key bytes,
// is caught.
func TestNoSecretCatchesALeak(t *testing.T) {
	for name, v := range map[string]any{"password": leaky{Password: "hunter2-pw"}, "bytes": leakyBytes{Key: []byte("hunter2-pw")}} {
		r := &recorder{TB: t}
		NoSecret(r, name, v, "hunter2-pw")
		assert.True(t, r.failed, "%s was not caught", name)
	}
	r := &recorder{TB: t}
	NoSecret(r, "clean", leaky{Password: "x"}, "hunter2-pw")
	assert.False(t, r.failed, "a clean value was reported")
}

func TestBytesAsNumbers(t *testing.T) {
	secret := []byte("raw-secret")
	for _, out := range []string{fmt.Sprint(secret), fmt.Sprintf("%d", [][]byte{secret}), fmt.Sprintf("%#v", secret),
		"value:\n    - 114\n    - 97\n    - 119\n    - 45\n    - 115\n    - 101\n    - 99\n    - 114\n"} {
		assert.True(t, BytesAsNumbers(out, secret), out)
	}
	assert.False(t, BytesAsNumbers(fmt.Sprint([]byte("raw-other!")), secret))
}
