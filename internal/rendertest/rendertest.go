// Package rendertest renders a value every way a program may print it, for
// tests that check no secret is in any of them.
package rendertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Verbs are the fmt verbs every value is printed with.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"}

// All returns v rendered with every fmt verb, by log/slog's text and JSON
// handlers (alone, in a slice and in a map, and as a group member), by
// encoding/json and by YAML, each labelled with how it was made. A
// marshaller's error is rendered as its text.
func All(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range Verbs {
		out["fmt "+verb] = fmt.Sprintf(verb, v)
		out["fmt "+verb+" in a slice"] = fmt.Sprintf(verb, []any{v})
		out["fmt "+verb+" in a struct"] = fmt.Sprintf(verb, struct{ V any }{v})
	}
	attrs := []any{"v", v, "slice", []any{v}, "map", map[string]any{"k": v}, slog.Group("g", "v", v)}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("render", attrs...)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("render", attrs...)
	out["slog text"], out["slog json"] = text.String(), js.String()
	for name, marshal := range map[string]func(any) ([]byte, error){"json": json.Marshal, "yaml": yaml.Marshal} {
		for how, x := range map[string]any{"": v, " in a slice": []any{v}, " in a map": map[string]any{"k": v}} {
			b, err := marshal(x)
			if err != nil {
				b = []byte(err.Error())
			}
			out[name+how] = string(b)
		}
	}
	return out
}

// NoSecret fails t for every rendering of v that contains one of secrets.
func NoSecret(t testing.TB, name string, v any, secrets ...string) {
	t.Helper()
	for how, s := range All(v) {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(s, secret) {
				t.Errorf("%s rendered by %s shows a secret (%.12s…): %.300s", name, how, secret, s)
			}
		}
	}
}
