// Package rendertest renders a value every way a program may print it, for
// tests that check no secret is in any of them.
package rendertest

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

	"go.yaml.in/yaml/v3"
)

// Verbs are the fmt verbs every value is printed with.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%p"}

// All returns v rendered with every fmt verb (alone, in a slice, a struct
// and a map), by log/slog's text and JSON handlers (alone, in a slice, a
// map and a group, each attribute also on a line of its own), by
// encoding/json and by YAML (alone, in a slice, a map and a struct), each
// labelled with how it was made. A marshaller's error fails t.
func All(t testing.TB, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range Verbs {
		out["fmt "+verb] = fmt.Sprintf(verb, v)
		out["fmt "+verb+" in a slice"] = fmt.Sprintf(verb, []any{v})
		out["fmt "+verb+" in a struct"] = fmt.Sprintf(verb, struct{ V any }{v})
		if verb != "%d" && verb != "%x" { // which would also apply to the key
			out["fmt "+verb+" in a map"] = fmt.Sprintf(verb, map[string]any{"k": v})
		}
	}
	attrs := []slog.Attr{slog.Any("v", v), slog.Any("slice", []any{v}), slog.Any("map", map[string]any{"k": v}), slog.Group("g", "v", v)}
	handlers := map[string]func(io.Writer) slog.Handler{
		"text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		"json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	}
	for name, handler := range handlers {
		var all bytes.Buffer
		slog.New(handler(&all)).LogAttrs(nil, slog.LevelInfo, "render", attrs...) //nolint:staticcheck // no context needed
		out["slog "+name] = all.String()
		for _, a := range attrs {
			var b bytes.Buffer
			slog.New(handler(&b)).LogAttrs(nil, slog.LevelInfo, "render", a) //nolint:staticcheck
			out["slog "+name+" "+a.Key] = b.String()
		}
	}
	for how, x := range map[string]any{"": v, " in a slice": []any{v}, " in a map": map[string]any{"k": v}, " in a struct": struct{ V any }{v}} {
		// A value that cannot be marshalled (it holds a func: OnRotate,
		// a SupplierFunc) shows nothing, which is safe; the error text
		// is checked like any rendering.
		j, err := json.Marshal(x)
		out["json"+how] = string(j) + errText(err)
		y, err := yamlMarshal(x)
		out["yaml"+how] = string(y) + errText(err)
	}
	return out
}

// NoFailedVerb fails t for every rendering of v in which a verb or a
// method failed ("%!"): for types that format themselves.
func NoFailedVerb(t testing.TB, name string, v any) {
	t.Helper()
	for how, s := range All(t, v) {
		if strings.Contains(s, "%!") {
			t.Errorf("%s rendered by %s: a verb or method failed: %.300s", name, how, s)
		}
	}
}

// NoSecret fails t for every rendering of v (see [All]) that shows one of
// secrets in any form: as text, base64, hex, or its bytes written as a
// list of numbers (how fmt and YAML print a []byte).
func NoSecret(t testing.TB, name string, v any, secrets ...string) {
	t.Helper()
	for how, s := range All(t, v) {
		for _, secret := range secrets {
			if secret == "" {
				continue
			}
			for _, form := range Forms([]byte(secret)) {
				if strings.Contains(s, form) {
					t.Errorf("%s rendered by %s shows a secret (%.12s…): %.300s", name, how, secret, s)
				}
			}
			if BytesAsNumbers(s, []byte(secret)) {
				t.Errorf("%s rendered by %s shows the bytes of a secret (%.12s…): %.300s", name, how, secret, s)
			}
		}
	}
}

// Forms is every way the bytes of a secret could leak as text: the bytes
// as a string, base64 (encoding/json writes []byte so), hex (%x).
// [BytesAsNumbers] covers the rest.
func Forms(secret []byte) []string {
	return []string{
		string(secret),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
		hex.EncodeToString(secret),
	}
}

var numberRE = regexp.MustCompile(`0[xX][0-9a-fA-F]+|[0-9]+`)

// BytesAsNumbers reports whether out lists the first bytes of secret as
// consecutive numbers, decimal or 0x hex, whatever separates them: how fmt
// (%v, %d, %#v) and YAML write a []byte.
func BytesAsNumbers(out string, secret []byte) bool {
	want := widen(secret[:min(8, len(secret))])
	if len(want) == 0 {
		return false
	}
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
		if slices.Equal(nums[i:i+len(want)], want) {
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

// yamlMarshal is yaml.Marshal with its panic on an unsupported type (a
// func) turned into an error.
func yamlMarshal(v any) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml: %v", p)
		}
	}()
	return yaml.Marshal(v)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " error: " + err.Error()
}
