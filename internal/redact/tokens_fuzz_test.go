package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// leaks reports a value of values that still stands in out as a whole
// token, without regard to case (simple Unicode folding, as
// strings.EqualFold, between characters as long in UTF-8: as Tokens says,
// the Kelvin sign is not a k): characters, not bytes inside a character, nor
// characters of a Mark (a value "]]" is not shown by "[redacted]]").
func leaks(out string, values []string) (string, bool) {
	for _, piece := range strings.Split(out, Mark) {
		if v, ok := leaksIn(piece, values); ok {
			return v, true
		}
	}
	return "", false
}

func leaksIn(out string, values []string) (string, bool) {
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
				if !sameButCase(w, v) {
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

// caseAlphabet holds the characters whose case is hard: longer or shorter
// in another case (ß, İ, ı, the Kelvin sign), with several lower cases
// (Σ σ ς), the micro sign, a title case, broken UTF-8, separators.
var caseAlphabet = []string{
	"a", "A", "s", "S", "k", "K", "i", "I", "1", "2", " ", "-", "|",
	"ß", "ẞ", "İ", "ı", "\u212a", "Σ", "σ", "ς", "µ", "μ", "ǅ", "ǆ", "É", "é",
	"ſ", "\xff", "\xce", "\x83", "i\u0307", "Ⱥ", "ⱥ",
}

// spell makes a text of caseAlphabet, one character per byte of b; 0xff
// ends a value.
func spell(b []byte) []string {
	var out []string
	var w strings.Builder
	for _, c := range b {
		if c == 0xff {
			out = append(out, w.String())
			w.Reset()
			continue
		}
		w.WriteString(caseAlphabet[int(c)%len(caseAlphabet)])
	}
	return append(out, w.String())
}

// As FuzzTokensBlanksWhatOneByOneDid, on texts and values spelled with
// the characters whose case is hard.
func FuzzTokensHardCases(f *testing.F) {
	f.Add([]byte{1, 14, 21, 10, 0}, []byte{0, 0xff, 21, 0xff, 15})
	f.Add([]byte{17, 10, 4, 10, 5}, []byte{4, 0xff, 17})
	f.Fuzz(func(t *testing.T, text, vals []byte) {
		if len(text) > 60 || len(vals) > 40 {
			return
		}
		s := strings.Join(spell(text), "")
		values := spell(vals)
		out := Tokens(s, values...)
		if v, leaked := leaks(out, values); leaked {
			if _, oldLeaked := leaks(tokensOneByOne(s, values...), values); !oldLeaked {
				t.Fatalf("Tokens(%q, %q) = %q leaves %q, which replacing one by one blanked (%q)", s, values, out, v, tokensOneByOne(s, values...))
			}
		}
	})
}

// sameButCase reports whether w is v in other cases, character for
// character as long in UTF-8; bytes that are not UTF-8 are themselves.
func sameButCase(w, v string) bool {
	for w != "" && v != "" {
		a, n := utf8.DecodeRuneInString(w)
		_, m := utf8.DecodeRuneInString(v)
		switch {
		case n != m:
			return false
		case a == utf8.RuneError && n == 1:
			if w[0] != v[0] {
				return false
			}
		case !strings.EqualFold(w[:n], v[:m]):
			return false
		}
		w, v = w[n:], v[m:]
	}
	return w == v
}
