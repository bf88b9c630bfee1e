package cache_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/rendertest"
)

// An entry's value is a token: no rendering of an Entry shows it, in any
// encoding of its bytes.
func TestEntryRenderingHidesValue(t *testing.T) {
	token := []byte("eyJ-entry-token-in-memory-7419")
	e := cache.Entry{Value: token, Expiry: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	for name, v := range map[string]any{"value": e, "pointer": &e} {
		t.Run(name, func(t *testing.T) {
			for how, out := range rendertest.All(t, v) {
				require.NotEmpty(t, out, how)
				if strings.HasPrefix(how, "fmt %p") {
					continue // Value is an exported []byte: fmt's %p, which no method intercepts, prints it
				}
				assert.NotContains(t, out, "%!", "%s: a verb or method failed: %s", how, out)
				for _, f := range rendertest.Forms(token) {
					assert.NotContains(t, out, f, "%s leaks the value: %s", how, out)
				}
				assert.False(t, rendertest.BytesAsNumbers(out, token), "%s leaks the value's bytes: %s", how, out)
			}
		})
	}
}

// fmt and slog still tell the size and the expiry; JSON the expiry.
func TestEntryDescription(t *testing.T) {
	e := cache.Entry{Value: []byte("secret-token"), Expiry: time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))}
	want := "cache.Entry{Value:[redacted] (12 bytes) Expiry:2026-03-04T04:06:07Z}"
	for _, verb := range rendertest.Verbs[:7] { // all but %p
		assert.Equal(t, want, fmt.Sprintf(verb, &e), verb)
	}
	assert.Equal(t, want, fmt.Sprintf("%#v", e))

	j, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"Expiry":"2026-03-04T05:06:07+01:00"}`, string(j))

	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("stored", "entry", e)
	assert.Contains(t, b.String(), `entry="`+want+`"`)
}
