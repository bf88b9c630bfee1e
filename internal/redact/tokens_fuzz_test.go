package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// leaks reports a value of values that still stands in out as a whole
// token, without regard to case (simple Unicode folding, as
// strings.EqualFold): characters, not bytes inside a character.
func leaks(out string, values []string) (string, bool) {
	var at []int // where the characters of out start, and its end
	for i := range out {
		at = append(at, i)
	}
	at = append(at, len(out))
	for _, v := range values {
		if v == "" {
			continue
		}
		for a, i := range at {
			for _, j := range at[a+1:] {
				w := out[i:j]
				if !strings.EqualFold(w, v) || (w != v && !utf8.ValidString(w)) {
					continue
				}
				if edge(out[:i], w, true) && edge(out[j:], w, false) {
					return v, true
				}
			}
		}
	}
	return "", false
}

// Tokens leaves no value standing that replacing value by value (the
// algorithm it replaced) blanked.
func FuzzTokensBlanksWhatOneByOneDid(f *testing.F) {
	for _, c := range [][2]string{
		{"İstanbul: CHALMERS", "4\x00male\x00chalmers"},
		{"a-b-c ab abc", "a-b\x00b-c\x00ab\x00ABC"},
		{"Kelvin K k ß SS ς Σ σ", "k\x00ss\x00σ\x00ς"},
		{"x\xffy \xff", "\xff\x00x\xff"},
		{"aaaa a-a-a", "a\x00a-a\x00aa\x00a-a-a"},
		{"İİK i̇i̇k", "İİK\x00i̇i̇k"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, s, joined string) {
		if len(s) > 200 || len(joined) > 200 {
			return
		}
		values := strings.Split(joined, "\x00")
		out := Tokens(s, values...)
		if v, leaked := leaks(out, values); leaked {
			if _, oldLeaked := leaks(tokensOneByOne(s, values...), values); !oldLeaked {
				t.Fatalf("Tokens(%q, %q) = %q leaves %q, which replacing one by one blanked (%q)", s, values, out, v, tokensOneByOne(s, values...))
			}
		}
	})
}
