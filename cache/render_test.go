package cache_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/rendertest"
)

// renderings is rendertest.All(v) (every fmt verb, log/slog's text and
// JSON handlers, encoding/json, YAML) plus what it leaves out: each slog
// attribute on a line of its own, fmt in a map, encoding/json and YAML in a
// struct; and a marshaller's error fails the test instead of being
// rendered as text.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := rendertest.All(v)
	for _, verb := range rendertest.Verbs {
		if verb != "%d" && verb != "%x" { // which would also apply to the key
			out["fmt "+verb+" in a map"] = fmt.Sprintf(verb, map[string]any{"k": v})
		}
	}
	handlers := map[string]func(io.Writer) slog.Handler{
		"text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		"json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	}
	for name, handler := range handlers {
		for _, attr := range []slog.Attr{slog.Any("v", v), slog.Any("x", []any{v}), slog.Any("m", map[string]any{"k": v})} {
			var b bytes.Buffer
			slog.New(handler(&b)).Info("render", attr)
			out["slog "+name+" "+attr.Key] = b.String()
		}
	}
	for name, x := range map[string]any{"": v, " in a slice": []any{v}, " in a map": map[string]any{"k": v}, " in a struct": struct{ V any }{v}} {
		j, err := json.Marshal(x)
		require.NoError(t, err, "json.Marshal%s", name)
		out["json"+name] = string(j)
		y, err := yaml.Marshal(x)
		require.NoError(t, err, "yaml.Marshal%s", name)
		out["yaml"+name] = string(y)
	}
	return out
}

// forms is every way the bytes of a secret could leak as text: the bytes
// as a string, base64 (encoding/json writes []byte so), hex (%x).
// bytesAsNumbers covers the rest.
func forms(secret []byte) []string {
	return []string{
		string(secret),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
		hex.EncodeToString(secret),
	}
}

var numberRE = regexp.MustCompile(`0[xX][0-9a-fA-F]+|[0-9]+`)

// bytesAsNumbers reports whether out lists the first bytes of secret as
// consecutive numbers, decimal or 0x hex, whatever separates them: how fmt
// (%v, %d, %#v) and YAML write a []byte.
func bytesAsNumbers(out string, secret []byte) bool {
	want := secret[:min(8, len(secret))]
	var nums []uint64
	for _, m := range numberRE.FindAllString(out, -1) {
		var n uint64
		var err error
		if h, ok := strings.CutPrefix(strings.ToLower(m), "0x"); ok {
			n, err = strconv.ParseUint(h, 16, 64)
		} else {
			n, err = strconv.ParseUint(m, 10, 64)
		}
		if err != nil {
			n = math.MaxUint64
		}
		nums = append(nums, n)
	}
	for i := 0; i+len(want) <= len(nums); i++ {
		if slices.Equal(nums[i:i+len(want)], widen(want)) {
			return true
		}
	}
	return false
}

func widen(b []byte) []uint64 {
	out := make([]uint64, len(b))
	for i, c := range b {
		out[i] = uint64(c)
	}
	return out
}

// An entry's value is a token: no rendering of an Entry shows it, in any
// encoding of its bytes.
func TestEntryRenderingHidesValue(t *testing.T) {
	token := []byte("eyJ-entry-token-in-memory-7419")
	e := cache.Entry{Value: token, Expiry: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	for name, v := range map[string]any{"value": e, "pointer": &e} {
		t.Run(name, func(t *testing.T) {
			for how, out := range renderings(t, v) {
				require.NotEmpty(t, out, how)
				assert.NotContains(t, out, "%!", "%s: a verb or method failed: %s", how, out)
				for _, f := range forms(token) {
					assert.NotContains(t, out, f, "%s leaks the value: %s", how, out)
				}
				assert.False(t, bytesAsNumbers(out, token), "%s leaks the value's bytes: %s", how, out)
			}
		})
	}
}

// The redacted form still tells the size and the expiry.
func TestEntryString(t *testing.T) {
	e := cache.Entry{Value: []byte("secret-token"), Expiry: time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))}
	want := "cache.Entry{Value:[redacted] (12 bytes) Expiry:2026-03-04T04:06:07Z}"
	assert.Equal(t, want, e.String())
	assert.Equal(t, want, fmt.Sprintf("%#v", e))
	assert.Equal(t, want, fmt.Sprintf("%x", &e))

	j, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `"`+want+`"`, string(j))

	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("stored", "entry", e)
	var rec struct {
		Entry struct {
			Bytes  int       `json:"bytes"`
			Expiry time.Time `json:"expiry"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &rec))
	assert.Equal(t, 12, rec.Entry.Bytes)
	assert.True(t, e.Expiry.Equal(rec.Entry.Expiry))
}
