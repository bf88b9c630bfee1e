package backends

import (
	"fmt"
	"reflect"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// otherSection is, for the entries of a section, the section whose
// entries take keys they do not (smart: is a key of fhir, not rest).
var otherSection = map[reflect.Type]struct {
	name string
	t    reflect.Type
}{reflect.TypeFor[ConnConfig](): {"fhir", reflect.TypeFor[FHIRConfig]()}}

// unknownKey reports key k of where, which t has no field for: a key of
// another section's entries says so, a near miss names the key meant.
// What the key meant being absent causes is not reported again.
func (r *configReader) unknownKey(where, prefix string, k *yaml.Node, t reflect.Type) {
	if o, ok := otherSection[t]; ok && prefix == "" {
		if _, ok := yamlFields(o.t)[k.Value]; ok {
			r.misplaced[place{where, k.Value}] = true
			r.add(where, k.Value, k.Line, "applies to %s connections only (move the entry to the %s section)", o.name, o.name)
			return
		}
	}
	fields := yamlFields(t)
	best := nearest(k.Value, fields)
	if best == "" {
		r.add(where, prefix+shortKey(k.Value), k.Line, "unknown field")
		return
	}
	r.meant[place{where, prefix + best}] = true
	r.add(where, prefix+shortKey(k.Value), k.Line, "unknown field (did you mean %q?)", best)
}

// suggest returns ` (did you mean "x"?)` for a near miss.
func suggest(key string, fields map[string]reflect.Type) string {
	if best := nearest(key, fields); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// nearest returns the field key is a near miss of; "" for none.
func nearest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	if len(key) > 64 {
		return ""
	}
	for f := range fields {
		if d := editDistance(key, f); d < bestD || (d == bestD && f < best) {
			best, bestD = f, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// shortKey is a key as problems name it: a long one (a value written where
// a key was expected, perhaps a secret) is cut to its first characters.
func shortKey(k string) string {
	if len(k) <= 32 {
		return k
	}
	n := 8
	for n > 0 && !utf8.RuneStart(k[n]) {
		n--
	}
	return k[:n] + "…"
}
